"""A saved plan's site content, validated as the site file it stands for.

The planner takes only a valid site, and a site file gets there through
validation. The content a saved plan carries was valid when the plan was made,
but the file may have been edited since (with its digests recomputed), so apply
validates it again like any site file, with the backend's catalogue, and requires
it to read back as exactly itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.digest import plain
from onenet_apply.model.spec import SiteSpec
from onenet_apply.sitefile.problems import Severity
from onenet_apply.sitefile.validate import validate_file
from onenet_apply.sitefile.verdict import Validation


def site_document(spec: SiteSpec) -> dict[str, Any]:
    """The spec as a site file: every value explicit, ids as keys, no nulls or empty
    mappings (a hunt group that is not weighted has no `weights`)."""
    document = _no_nulls(plain(spec))
    for section, items in document.items():
        if section != "site":
            for item in items.values():
                del item["id"]
    return {"version": 1, **document}


def problem(spec: SiteSpec, catalogue: Catalogue) -> str | None:
    """The first reason the spec is not a valid site file that reads back as itself."""
    text = json.dumps(site_document(spec), ensure_ascii=False)
    result = validate_text(text, "site.json", catalogue)
    errors = [p for p in result.problems if p.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        return f"{first.dotted_path}: {first.message}" if first.path else first.message
    if result.spec != spec:
        return "it does not read back as itself"
    return None


def validate_text(text: str, name: str, catalogue: Catalogue) -> Validation:
    """`text` validated exactly as the site file `name` would be, before it is one."""
    with tempfile.TemporaryDirectory(prefix="onenet-") as directory:
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return validate_file(path, catalogue)


def _no_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value
