"""Plans for people and machines: text like Terraform's, JSON, and Markdown for PRs.

Renderings only read the plan; they never see a secret because plans hold none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import islice
from json.encoder import encode_basestring
from typing import Any

from onenet_apply.model.plan import Action, Kind, Plan, Status, plan_to_json
from onenet_apply.model.spec import ACTIVATED, ACTIVE

# everything else updates: "~"; "!" is no change but a failed activation a human must see to
MARKS = {Kind.CREATE: "+", Kind.DELETE: "-", Kind.ACTIVATION_FAILED: "!"}
COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "red"}
STATUS_COLOURS = {Status.DEFERRED: "cyan", Status.BLOCKED: "red", Status.GATED: "magenta"}
MARKDOWN_FOLD_AFTER = 20  # objects: longer plans are folded into <details>
CHUNK_LINES = 4096  # lines of plan text written at a time

Style = Callable[..., str]


def plain_style(text: str, **_: Any) -> str:
    return text


def mark(action: Action) -> str:
    return MARKS.get(action.kind, "~")


def value(v: Any) -> str:
    if type(v) is str:  # most values: first
        return encode_basestring(v)
    if v is None:
        return "(none)"
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        # json.dumps(v, ensure_ascii=False) without building an encoder per call
        return encode_basestring(v)
    return str(v)


def step(action: Action) -> str:
    """The action's own name: its kind, and a suffix for a second step (`-later`)."""
    return action.id.rsplit("/", 1)[1]


_NOTHING = (None, [], {})  # a creation's fields left unset


def change_lines(action: Action, indent: str = "") -> list[str]:
    """`field: value` for a creation (empty fields left out), `field: old -> new` otherwise,
    each after `indent`."""
    if action.kind is Kind.CREATE:
        return [
            f"{indent}{c.field}: {said(c.field, c.after)}"
            for c in action.changes
            if c.after not in _NOTHING
        ]
    return [
        f"{indent}{c.field}: {said(c.field, c.before)} -> {said(c.field, c.after)}"
        for c in action.changes
    ]


def said(field: str, v: Any) -> str:
    """A value as people read it: a user's `status: active` (so kept in saved plans and
    their digests) in the platform's word, activated, as `sandbox status` says it."""
    return value(ACTIVATED if field == "status" and v == ACTIVE else v)


def only_blocked(plan: Plan) -> bool:
    """Nothing the tool can do: every action waits for a human (exit code 4)."""
    return not plan.empty and all(a.status is Status.BLOCKED for a in plan.actions)


def summary_line(plan: Plan) -> str:
    c = plan.counts()
    if plan.empty and plan.targets:
        return f"No changes to {', '.join(plan.targets)}: they match the site file."
    if plan.empty:
        return f"No changes. Site {plan.site} matches the site file."
    line = (
        f"Plan: {c['ready']} ready, {c['deferred']} deferred, {c['blocked']} blocked, "
        f"{c['gated']} gated."
    )
    if only_blocked(plan):
        line += " Nothing to change until a human acts on the blocked items."
    return line


def render_text(plan: Plan, style: Style = plain_style) -> str:
    return "".join(render_text_chunks(plan, style))


def render_text_chunks(
    plan: Plan, style: Style = plain_style, lines: int = CHUNK_LINES
) -> Iterator[str]:
    """The text of `render_text` in pieces of `lines` lines each (the last one shorter):
    a 100,000-user plan is a million lines, never held as one string."""
    text_lines = _text_lines(plan, style)
    while chunk := list(islice(text_lines, lines)):
        yield "\n".join(chunk) + "\n"


def _text_lines(plan: Plan, style: Style) -> Iterator[str]:
    if plan.empty:
        yield summary_line(plan)
        yield from _warning_lines(plan, style)
        yield from _target_lines(plan, style)
        return
    yield f"onenet plan for site {plan.site}, in the order it runs:"
    yield ""
    for action in plan.actions:
        m = mark(action)
        if action.kind is Kind.ACTIVATION_FAILED:  # one line: what it is, what to do
            yield style(f"  {m} {action.target} {action.reason}", fg=COLOURS[m], bold=True)
            continue
        head = style(f"  {m} {action.target} {step(action)}", fg=COLOURS[m], bold=True)
        if action.status is not Status.READY:
            tag = f"[{action.status}: {action.reason}]"
            head += " " + style(tag, fg=STATUS_COLOURS[action.status])
        yield head
        yield from change_lines(action, "      ")
        for note in action.notes:
            yield style(f"      # {note}", dim=True)
    yield from _warning_lines(plan, style)
    yield from _target_lines(plan, style)
    yield ""
    yield style(summary_line(plan), bold=True)
    gated = plan.gated
    if gated:
        reasons = sorted(
            {a.reason for a in gated if a.reason and not a.reason.startswith("waits for")}
        )
        yield from (style(f"Gated: {r}", fg="magenta") for r in reasons)


def _warning_lines(plan: Plan, style: Style) -> list[str]:
    if not plan.warnings:
        return []
    return ["", *(style(f"Warning: {w}", fg="yellow") for w in plan.warnings)]


PARTIAL = (
    "this plan is partial: it holds only the actions of {targets} (--target) and what "
    "they need; the site file's other changes are not planned (plan without --target "
    "to see them)"
)


def partial_warning(plan: Plan) -> str:
    return PARTIAL.format(targets=", ".join(plan.targets))


def _target_lines(plan: Plan, style: Style) -> list[str]:
    """A targeted plan says it is partial, and what it pulled in and why."""
    if not plan.targets:
        return []
    lines = ["", style(f"Warning: {partial_warning(plan)}", fg="yellow")]
    lines += [f"Pulled in: {action_id} ({why})" for action_id, why in plan.pulled_in]
    return lines


def render_json(plan: Plan) -> str:
    return json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False) + "\n"


def render_markdown(plan: Plan) -> str:
    out = [f"### onenet plan: site `{plan.site}`", ""]
    if plan.targets:
        out += [f"> :warning: **Partial plan**: {_md(partial_warning(plan))}", ""]
    if plan.empty:
        out += [
            f"{summary_line(plan)}"
            if plan.targets
            else "No changes: the site matches the site file.",
            "",
        ]
        out += [f"> :warning: {_md(w)}" for w in plan.warnings]
        return "\n".join(out) + ("\n" if plan.warnings else "")
    counts = plan.counts()
    kinds = {"create": 0, "update": 0, "delete": 0, "attention": 0}
    for action in plan.actions:
        kinds[{"+": "create", "-": "delete", "!": "attention"}.get(mark(action), "update")] += 1
    out += [
        "| ready | deferred | blocked | gated | to create | to update | to delete |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {counts['ready']} | {counts['deferred']} | {counts['blocked']} | "
        f"{counts['gated']} | {kinds['create']} | {kinds['update']} | {kinds['delete']} |",
        "",
    ]
    if only_blocked(plan):
        out += ["Nothing to change until a human acts on the blocked items.", ""]
    held = [a for a in plan.actions if a.status is not Status.READY]
    if held:
        out += ["| action | status | why |", "|---|---|---|"]
        out += [f"| `{a.id}` | {a.status} | {_md(a.reason or '')} |" for a in held]
        out.append("")
    out += [f"> :warning: {_md(w)}" for w in plan.warnings]
    if plan.pulled_in:
        out += [""] if out[-1] else []
        out += ["| pulled in | why |", "|---|---|"]
        out += [f"| `{action_id}` | {_md(why)} |" for action_id, why in plan.pulled_in]
        out.append("")
    objects: dict[str, list[Action]] = {}
    for action in plan.actions:
        objects.setdefault(str(action.target), []).append(action)
    details = []
    for target, actions in objects.items():
        body = []
        for action in actions:
            status = "" if action.status is Status.READY else f"  ({action.status})"
            body.append(f"{mark(action)} {step(action)}{status}")
            body += change_lines(action, "    ")
        details += [
            f"<details><summary><code>{target}</code> "
            f"({', '.join(step(a) for a in actions)})</summary>",
            "",
            "```diff",
            *body,
            "```",
            "</details>",
        ]
    if len(objects) > MARKDOWN_FOLD_AFTER:
        out += [
            f"<details><summary>All {len(objects)} objects, in the order they run</summary>",
            "",
            *details,
            "",
            "</details>",
        ]
    else:
        out += details
    out.append("")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
