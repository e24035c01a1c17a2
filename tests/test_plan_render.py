"""Golden files for the plan renderings, and the plan file's JSON round trip.

The golden files were reviewed by hand against examples/site.yaml and the README;
tests/golden/README.md says what each was checked for. Regenerate after an intended
change with `ONENET_UPDATE_GOLDEN=1 python3 -m pytest tests/test_plan_render.py`:
that run rewrites the files and skips these tests (a rewritten file proves nothing),
so review the diff like any other change, then run the tests again without it.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.plan import (
    FORMAT_VERSION,
    Plan,
    PlanFileError,
    plan_from_json,
    plan_to_json,
)
from onenet_apply.model.state import SiteState
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.planning.render import (
    render_json,
    render_markdown,
    render_text,
    render_text_chunks,
    value,
)
from onenet_apply.sitefile.validate import validate_file
from tests.conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden"
SITE = "berlin-hq"


def example_plans(tmp_path: Path) -> dict[str, Plan]:
    spec = validate_file(str(EXAMPLE)).spec
    empty = plan(spec, SiteState(SITE), catalogue=default_catalogue())
    backend = SandboxBackend(tmp_path / "sandbox.db")
    for action in empty.ready:
        backend.execute(SITE, action)
    backend.activate(SITE, ["anna", "ben", "deniz", "georg", "karl", "hunt_group/sales"])
    partly = plan(spec, backend.read_state(SITE), PlanOptions(), catalogue=backend.catalogue())
    backend.close()
    return {"empty": empty, "partly-built": partly}


RENDERINGS = {"txt": render_text, "json": render_json, "md": render_markdown}


@pytest.mark.parametrize("suffix", list(RENDERINGS))
@pytest.mark.parametrize("case", ["empty", "partly-built"])
def test_golden_renderings(tmp_path: Path, case: str, suffix: str) -> None:
    rendered = RENDERINGS[suffix](example_plans(tmp_path)[case])
    golden = GOLDEN / f"example-{case}.{suffix}"
    if os.environ.get("ONENET_UPDATE_GOLDEN"):
        golden.write_text(rendered, "utf-8")
        pytest.skip(f"rewrote {golden.name}: review its diff, then rerun without the variable")
    assert rendered == golden.read_text("utf-8")


def test_json_round_trip(tmp_path: Path) -> None:
    for the_plan in example_plans(tmp_path).values():
        again = plan_from_json(json.loads(render_json(the_plan)))
        assert again == the_plan
        assert plan_to_json(again) == plan_to_json(the_plan)


@pytest.mark.parametrize(
    "document,message",
    [
        ({"format_version": 99}, "unsupported plan format_version 99"),
        ({"format_version": FORMAT_VERSION}, "not a valid onenet plan"),
        (
            {
                "format_version": FORMAT_VERSION,
                "site": 5,
                "spec_digest": "",
                "state_digest": "",
                "actions": [],
            },
            "not a valid onenet plan",
        ),
        ([], "not a valid onenet plan"),
    ],
)
def test_bad_plan_files(document: object, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        plan_from_json(document)


def test_text_has_no_colour_codes_unless_styled(tmp_path: Path) -> None:
    text = render_text(example_plans(tmp_path)["empty"])
    assert "\x1b[" not in text
    assert text.splitlines()[-1] == "Plan: 19 ready, 4 deferred, 0 blocked, 0 gated."


@settings(max_examples=500, deadline=None)
@given(text=st.text())
def test_a_text_value_is_shown_as_its_json_string(text: str) -> None:
    """Values are quoted as json.dumps(v, ensure_ascii=False) quotes them, escapes alike."""
    assert value(text) == json.dumps(text, ensure_ascii=False)
    assert value([text, None, 3]) == f"[{json.dumps(text, ensure_ascii=False)}, (none), 3]"


def test_plan_text_is_written_in_pieces_that_make_the_same_text(tmp_path: Path) -> None:
    """The command line writes a plan's text a few thousand lines at a time (a large
    plan is never one string in memory): the pieces make exactly the golden text."""
    plans = example_plans(tmp_path)
    empty_site = plan(
        validate_file(str(EXAMPLE)).spec, SiteState(SITE), catalogue=default_catalogue()
    )
    for case, the_plan in [*plans.items(), ("no change", replace(empty_site, actions=()))]:
        whole = render_text(the_plan)
        for lines in (1, 2, 7, 4096):
            chunks = list(render_text_chunks(the_plan, lines=lines))
            assert "".join(chunks) == whole, case
            assert all(chunk.endswith("\n") and chunk.count("\n") <= lines for chunk in chunks)
        if case in ("empty", "partly-built"):
            assert whole == (GOLDEN / f"example-{case}.txt").read_text("utf-8")
