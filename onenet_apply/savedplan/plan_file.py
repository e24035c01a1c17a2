"""The saved plan: the reviewed artifact `onenet plan --out` writes and `onenet apply` runs.

The document is the plan's JSON (`plan.plan_to_json`) with a marker first, so a
saved plan is recognised by its content and not by its name (`recognition.py`),
plus what apply needs to derive the plan again: the site content it was made
from (`spec`, the SiteSpec in its plain JSON form), the options it was made
with, and a `plan_digest` over the whole document. The digest catches a damaged or edited
file; it does not prove who made it (anyone can compute one), which is why apply
also plans again from the embedded content and runs only actions that come out
exactly as saved (see `saved_check`).

Reading is bounded (size, nesting, duplicate keys, NaN) so that a hostile file
is one clear error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from onenet_apply.model.digest import json_digest, plain, spec_digest
from onenet_apply.model.plan import (
    FORMAT_VERSION,
    Plan,
    PlanFileError,
    Target,
    plan_from_json,
    plan_to_json,
)
from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.draft import PlanOptions
from onenet_apply.savedplan.recognition import MARKER

MAX_PLAN_BYTES = 512 * 2**20  # a 100,000-user site's plan is well under this
REMAKE = "make it again with onenet plan --out and review it"


class TamperedPlanError(PlanFileError):
    """A saved plan whose content disagrees with itself: edited or damaged since it was made."""


@dataclass(frozen=True, slots=True)
class SavedPlan:
    plan: Plan
    spec: SiteSpec  # the site content the plan was made from
    options: PlanOptions  # the options it was made with
    digest: str  # its plan_digest


def document(plan: Plan, spec: SiteSpec, options: PlanOptions) -> dict[str, Any]:
    """The saved-plan document, `plan_digest` last."""
    body = {
        "kind": MARKER,
        **plan_to_json(plan),
        "options": {"allow_delete": options.allow_delete, "force": options.force}
        | ({"targets": [str(t) for t in options.targets]} if options.targets else {}),
        "spec": plain(spec),
    }
    return {**body, "plan_digest": json_digest(body)}


def render(plan: Plan, spec: SiteSpec, options: PlanOptions) -> str:
    return json.dumps(document(plan, spec, options), indent=2, ensure_ascii=False) + "\n"


def read_saved_plan(path: str) -> SavedPlan:
    """Read and check a saved plan; PlanFileError (or TamperedPlanError) says why not."""
    return saved_from_document(read_document(path), path)


def read_document(path: str) -> Any:
    """A plan file's JSON, read bounded; PlanFileError says why it cannot be."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PLAN_BYTES + 1)
    except OSError as e:
        raise PlanFileError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanFileError(f"{path}: larger than {MAX_PLAN_BYTES:,} bytes, not a saved plan")
    try:
        parsed = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_object,
            parse_constant=_nan,
            parse_int=_int,
            parse_float=_float,
        )
    except UnicodeDecodeError as e:
        raise PlanFileError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise PlanFileError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    except RecursionError:
        raise PlanFileError(f"{path}: nested too deeply to be a saved plan") from None
    except _BadJson as e:
        raise PlanFileError(f"{path}: {e}") from None
    return parsed


def saved_from_document(parsed: Any, path: str) -> SavedPlan:
    """Check a parsed saved-plan document and read it (`path` names it in errors)."""
    if not isinstance(parsed, dict):
        raise PlanFileError(f"{path}: not a saved onenet plan")
    if parsed.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: unsupported plan format_version {parsed.get('format_version')!r} "
            f"(this onenet reads {FORMAT_VERSION}); {REMAKE}"
        )
    if parsed.get("kind") != MARKER:
        raise PlanFileError(f'{path}: not a saved onenet plan (no "kind": "{MARKER}")')
    from onenet_apply.savedplan.spec_json import SpecJsonError, spec_from_json  # reading only

    body = {k: v for k, v in parsed.items() if k != "plan_digest"}
    if parsed.get("plan_digest") != json_digest(body):
        raise TamperedPlanError(
            f"{path}: the plan was changed after it was made (its plan_digest does not "
            f"match its content); {REMAKE}"
        )
    try:
        plan = plan_from_json(parsed)
        options = _options(parsed.get("options"))
        spec = spec_from_json(parsed.get("spec"))
    except (PlanFileError, SpecJsonError) as e:
        raise PlanFileError(f"{path}: {e}") from None
    if spec_digest(spec) != plan.spec_digest or spec.site.id != plan.site:
        raise TamperedPlanError(
            f"{path}: the plan's site content does not match its spec_digest and site; "
            f"it was changed after it was made; {REMAKE}"
        )
    return SavedPlan(plan, spec, options, parsed["plan_digest"])


def _options(value: Any) -> PlanOptions:
    flags = {k: v for k, v in value.items() if k != "targets"} if isinstance(value, dict) else {}
    if set(flags) != {"allow_delete", "force"} or not all(type(v) is bool for v in flags.values()):
        raise PlanFileError(
            'options must be {"allow_delete": BOOL, "force": BOOL} (and "targets": [TYPE/ID])'
        )
    return PlanOptions(value["allow_delete"], value["force"], _targets(value.get("targets", [])))


def _targets(value: Any) -> tuple[Target, ...]:
    """The --target list a targeted plan was made with (none: the whole site)."""
    from onenet_apply.planning.targeting import parse_target

    if not isinstance(value, list):
        raise PlanFileError('options.targets must be a list of "TYPE/ID"')
    try:
        return tuple(parse_target(_text(t)) for t in value)
    except ValueError as e:
        raise PlanFileError(f"options.targets: {e}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not TYPE/ID")
    return value


class _BadJson(ValueError):
    """JSON that parses but that no plan contains."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in pairs:
        if key in out:
            raise _BadJson(f"duplicate key {key!r}")
        out[key] = item
    return out


def _nan(name: str) -> Any:
    raise _BadJson(f"{name} is not a JSON number")


MAX_NUMBER_DIGITS = 30  # far more than any count, timer or weight a plan holds


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _BadJson(f"a number of {len(text):,} digits is in no saved plan")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS or not math.isfinite(number := float(text)):
        raise _BadJson(f"the number {text[:MAX_NUMBER_DIGITS]} is in no saved plan")
    return number
