"""Promises of the README that each rest on one line of code: the gates, the order of
a delete, one apply's own transient retries, the stop at a refusal and the credentials
sync before the commit. Each test here fails if that one line goes."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from onenet_apply.apply.applier import GatedError, apply_site
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.faults import Faults
from onenet_apply.model.catalogue import default_catalogue
from onenet_apply.model.spec import Policy, SiteSpec, frozen_map
from onenet_apply.planning.planner import PlanOptions, plan
from onenet_apply.sitefile.validate import validate_file
from tests.planner_kit import run, state_of, user
from tests.planner_kit import spec as kit_spec

SITE = "s1"


def site_file(
    path: Path,
    users: range,
    *,
    policy: str = "{allow_delete: false, max_change_percent: 30}",
    desk_phone: bool = False,
    renamed: frozenset[int] = frozenset(),
) -> SiteSpec:
    """A site of users u{n} (n in `users`), written to `path` and validated."""
    lines = [
        "version: 1",
        f"site: {{id: {SITE}, name: S, country: DE, policy: {policy}}}",
        "users:" if users else "users: {}",
    ]
    for n in users:
        first = "Renamed" if n in renamed else f"F{n}"
        phone = ", desk_phone: yealink-t54w" if desk_phone else ""
        lines.append(
            f"  u{n}: {{first_name: {first}, last_name: L{n}, number: '+4930123{n:05d}',"
            f" package: standard{phone}}}"
        )
    path.write_text("\n".join(lines) + "\n")
    result = validate_file(str(path))
    assert result.spec is not None, [p.format() for p in result.problems]
    return result.spec


def nothing(_credentials: object) -> None:
    """A recorder for sites without desk phones: no credential is ever issued."""


def built(tmp_path: Path, users: range, **kwargs: object) -> SandboxBackend:
    """A sandbox holding the site's users, activated."""
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    spec = site_file(tmp_path / "built.yaml", users, **kwargs)
    apply_site(backend, spec, PlanOptions(), nothing)
    backend.activate(SITE)
    return backend


# -- the gates ---------------------------------------------------------------------


def test_apply_without_an_approver_still_refuses_a_gated_plan(tmp_path: Path) -> None:
    """The applier checks the gates itself: a caller that asks nobody (approve=None)
    gets a GatedError, and the plan's ungated half is not applied either."""
    backend = built(tmp_path, range(3))
    before = backend.read_state(SITE)
    journal = len(backend.journal(SITE))
    spec = site_file(tmp_path / "site.yaml", range(2), renamed=frozenset({0}))
    the_plan = plan(spec, before, catalogue=default_catalogue())
    assert sorted((a.id, str(a.status)) for a in the_plan.actions) == [
        ("user/u0/update-profile", "ready"),
        ("user/u2/delete", "gated"),
    ]
    with pytest.raises(GatedError, match="deleting needs --allow-delete"):
        apply_site(backend, spec, PlanOptions(), nothing, approve=None)
    assert backend.read_state(SITE) == before
    assert len(backend.journal(SITE)) == journal


def test_deletes_count_towards_max_change_percent() -> None:
    """README: a plan *changing or deleting* more than max_change_percent of the
    existing users of a site of 10+ users needs --force. Deleting 4 of 10 is 40%."""
    body = "users:\n" + "".join(user(f"u{n}", n) for n in range(10))
    ten = kit_spec(body)
    six = kit_spec("users:\n" + "".join(user(f"u{n}", n) for n in range(6)))
    strict = Policy(allow_delete=True, max_change_percent=30)
    desired = replace(six, site=replace(six.site, policy=strict))
    held = run(desired, state_of(ten))
    reason = (
        "this plan changes 4 of 10 users (40%), more than policy.max_change_percent (30%): "
        "re-run with --force"
    )
    assert [(a.id, str(a.status), a.reason) for a in held.actions] == [
        (f"user/u{n}/delete", "gated", reason) for n in range(6, 10)
    ]
    forced = run(desired, state_of(ten), force=True)
    assert {str(a.status) for a in forced.actions} == {"ready"}
    three = kit_spec("users:\n" + "".join(user(f"u{n}", n) for n in range(7)))
    within = replace(three, site=replace(three.site, policy=strict))  # 3 of 10: 30%
    assert {str(a.status) for a in run(within, state_of(ten)).actions} == {"ready"}


def test_cli_apply_names_the_gate_before_asking_for_confirmation(onenet, workdir: Path) -> None:
    """The CLI checks the gates before it asks (or wants --yes): a gated plan is
    refused naming the gate. Without that check a plan holding only gated actions
    would have nothing to confirm and exit 0, and one with ready actions too would
    fail asking for --yes instead of naming the flag that lifts the gate."""
    site_file(workdir / "full.yaml", range(3))
    assert onenet("apply", str(workdir / "full.yaml"), "--yes").code == 0
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    before = backend.read_state(SITE)
    site_file(workdir / "delete-only.yaml", range(2))
    site_file(workdir / "mixed.yaml", range(2), renamed=frozenset({0}))
    for name in ("delete-only.yaml", "mixed.yaml"):
        result = onenet("apply", str(workdir / name))  # no --yes, no terminal
        assert result.code == 1, result.err
        assert result.err.splitlines()[-1] == (
            "Error: 1 gated action; nothing was applied: "
            "deleting needs --allow-delete or policy.allow_delete: true"
        )
        assert backend.read_state(SITE) == before
    backend.close()


# -- order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "section,group",
    [
        ("hunt_groups", '{name: S, number: "030 12345650", policy: circular, members: %s}'),
        ("call_pickup_groups", "{name: P, members: %s}"),
        ("call_park_groups", "{name: K, members: %s}"),
    ],
)
def test_a_user_leaves_its_groups_before_it_is_deleted(section: str, group: str) -> None:
    users = "users:\n" + user("owner", 9) + user("anna", 1)
    before = kit_spec(users + f"{section}:\n  g: {group % '[owner, anna]'}\n")
    after = kit_spec("users:\n" + user("owner", 9) + f"{section}:\n  g: {group % '[owner]'}\n")
    p = run(after, state_of(before))
    leave = f"{section[:-1]}/g/set-members"
    assert [(a.id, str(a.status)) for a in p.actions] == [
        (leave, "ready"),
        ("user/anna/delete", "ready"),
    ]
    assert p.actions[1].follows == (leave,)


# -- one apply, many batches ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["before", "lost-reply", "rollback"])
def test_one_apply_retries_a_transient_failure_itself(tmp_path: Path, mode: str) -> None:
    """A single apply (no rerun) re-reads, re-plans and finishes after a transient
    failure, whether the failed action happened or not."""
    spec = site_file(tmp_path / "site.yaml", range(5), desk_phone=True)
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=Faults(nth=3, mode=mode))
    with CredentialsSink(SITE, directory=tmp_path) as sink:
        report = apply_site(backend, spec, PlanOptions(), sink)
    assert report.failed == []
    assert plan(spec, backend.read_state(SITE), catalogue=backend.catalogue()).empty
    assert sorted(backend.read_state(SITE).users) == [f"u{n}" for n in range(5)]
    [csv_file] = tmp_path.glob("onenet-credentials-*.csv")
    rows = read_rows(csv_file)
    assert sorted(r["user_id"] for r in rows) == [f"u{n}" for n in range(5)]
    for row in rows:
        assert backend.verify_login(SITE, row["user_id"], row["password"])
    assert backend.check_consistency(SITE) == []


def test_a_refusal_in_the_first_batch_stops_the_whole_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 users make two batches of 100; the platform owns 50 licences, which the
    planner cannot see: the refusal lands in the first batch, and the second never runs."""
    spec = site_file(tmp_path / "site.yaml", range(150))
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    monkeypatch.setattr(backend, "batch_size", 100)
    backend.configure(SITE, licences={"standard": 50})
    read_state = backend.read_state
    monkeypatch.setattr(
        backend, "read_state", lambda site: replace(read_state(site), licences=frozen_map())
    )
    report = apply_site(backend, spec, PlanOptions(), nothing)
    assert len(report.applied) == 50
    [(failed_id, why)] = report.failed
    ready = [a.id for a in report.last_plan.ready]
    assert len(ready) == 150
    assert failed_id == ready[50] and "[licences]" in why
    attempted = [e.action_id for e in backend.journal(SITE) if e.action_id.startswith("user/")]
    assert attempted == ready[:51]  # none after the refusal


def test_each_batch_of_credentials_is_synced_before_the_platform_commits_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV is fdatasynced (fsync without fdatasync) once per batch, after the
    batch's rows are written and while no other reader sees the batch's users."""
    spec = site_file(tmp_path / "site.yaml", range(5), desk_phone=True)
    backend = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    monkeypatch.setattr(backend, "batch_size", 2)
    backend.configure(SITE)
    other = SandboxBackend(tmp_path / "sandbox.db", faults=None)
    syncs: list[tuple[int, int]] = []  # (rows in the CSV, users another reader sees)
    name = "fdatasync" if hasattr(os, "fdatasync") else "fsync"
    real = getattr(os, name)

    def watched(fd: int) -> None:
        csv_files = list(tmp_path.glob("onenet-credentials-*.csv"))
        if csv_files and os.fstat(fd).st_ino == csv_files[0].stat().st_ino:
            [csv_file] = csv_files
            syncs.append((len(read_rows(csv_file)), len(other.read_state(SITE).users)))
        real(fd)

    monkeypatch.setattr(os, name, watched)
    with CredentialsSink(SITE, directory=tmp_path) as sink:
        report = apply_site(backend, spec, PlanOptions(), sink)
    assert report.failed == [] and len(report.applied) == 5
    assert syncs == [(2, 0), (4, 2), (5, 4)]
    other.close()
