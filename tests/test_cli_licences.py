"""Licences the backend owns, through the real entry point: a plan that needs more
than the site owns says so (blocked, with the counts) instead of failing at apply,
and a new user waits for another's delete only when the licences are short."""

from __future__ import annotations

import json
from pathlib import Path

SITE = "s2"


def site_file(workdir: Path, users: dict[str, int], name: str = "site.yaml") -> str:
    """Professional users, each with its own number."""
    lines = ["version: 1", f"site: {{id: {SITE}, name: S, country: DE}}", "users:"]
    lines += [
        f'  {uid}: {{first_name: F, last_name: L, number: "030 123456{n:02d}", '
        "package: professional}"
        for uid, n in users.items()
    ]
    (workdir / name).write_text("\n".join(lines) + "\n")
    return name


def owns(onenet, count: int) -> None:
    result = onenet("sandbox", "configure", "--site", SITE, "--licence", f"professional={count}")
    assert result.code == 0


def test_more_users_than_owned_licences_are_blocked_with_the_counts(onenet, workdir: Path) -> None:
    owns(onenet, 10)
    path = site_file(workdir, {f"u{n:02d}": n for n in range(12)})
    plan = json.loads(onenet("plan", path, "--format", "json").out)
    assert plan["summary"] == {"ready": 10, "deferred": 0, "blocked": 2, "gated": 0}
    blocked = [a for a in plan["actions"] if a["status"] == "blocked"]
    assert [a["id"] for a in blocked] == ["user/u10/create", "user/u11/create"]
    assert {a["reason"] for a in blocked} == {"needs 12 professional licences, the site owns 10"}
    text = onenet("plan", path)
    assert (
        "  + user/u11 create [blocked: needs 12 professional licences, the site owns 10]"
        in text.out
    )
    applied = onenet("apply", path, "--yes")
    assert applied.code == 4  # what fits is done; the rest needs more licences
    assert "Apply: 10 applied, 0 deferred, 2 blocked, 0 gated, 0 failed." in applied.out
    assert onenet("plan", path, "--detailed-exitcode").code == 4
    owns(onenet, 12)  # the admin buys two more
    assert onenet("apply", path, "--yes").code == 0


def test_a_new_user_waits_for_a_delete_only_when_licences_are_short(onenet, workdir: Path) -> None:
    owns(onenet, 5)
    before = site_file(workdir, {"anna": 1, "carl": 3})
    assert onenet("apply", before, "--yes").code == 0
    onenet("sandbox", "activate", "--site", SITE, "--all")
    after = site_file(workdir, {"ben": 2, "carl": 3}, "after.yaml")

    def ben(*args: str) -> dict:
        plan = json.loads(onenet("plan", after, "--format", "json", *args).out)
        return next(a for a in plan["actions"] if a["id"] == "user/ben/create")

    # 2 of 5 in use: ben fits now; he neither waits for anna's delete nor for its gate
    assert (ben()["status"], ben()["follows"]) == ("ready", [])
    owns(onenet, 2)  # every licence in use: ben needs anna's
    assert ben("--allow-delete")["follows"] == ["user/anna/delete"]
    gated = ben()
    assert gated["status"] == "gated" and gated["reason"].startswith("waits for user/anna/delete")
    assert onenet("apply", after, "--yes", "--allow-delete").code == 0
