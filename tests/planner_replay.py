"""Plan a list of cases in this interpreter and print each plan's JSON, for comparing
interpreters that hash strings differently: `python -m tests.planner_replay CASES.json`.

Each case: the current and desired site files' text, the sandbox's owned licences
(or null), the plan options and the seed of the carrier's random activations.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.planning.render import render_json
from tests.planner_kit import LIFTED, settle, spec_of


def replay(case: dict) -> str:
    current, desired = spec_of(case["current"]), spec_of(case["desired"])
    site = current.site.id
    with tempfile.TemporaryDirectory() as tmp:
        backend = SandboxBackend(Path(tmp) / "sandbox.db")
        if case["licences"] is not None:
            backend.configure(site, licences=case["licences"])
        settle(backend, current, random.Random(case["seed"]), fail_some=True)
        options = PlanOptions(**case["options"]) if "options" in case else LIFTED
        text = render_json(
            plan(desired, backend.read_state(site), options, catalogue=backend.catalogue())
        )
        backend.close()
    return text


def main(path: str) -> None:
    for case in json.loads(Path(path).read_text()):
        sys.stdout.write(replay(case) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
