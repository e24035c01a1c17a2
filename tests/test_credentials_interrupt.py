"""Ctrl-C while login details are being written: the CSV keeps exactly what committed.

A batch's rows are written and synced before the sandbox commits it. An interrupt
that lands while they are written or synced, or just after, stops the batch: the
sandbox rolls it back, so its rows must leave the file again, and the count the
run reports is the file's. (The sandbox notes a batch's credentials before it
records them, so no instant between the recording and the noting is left where
an interrupt would escape the rollback's retract.) Each test interrupts the second batch of a site of 600
users (500 actions a batch) at one point of its recording, in plain and encrypted
files, then checks every row against the sandbox and that a rerun converges."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pyrage import x25519

from benchmarks.sitegen import generate
from onenet_apply.apply import credentials, sealed_credentials
from onenet_apply.apply.credentials import CredentialsSink, read_rows
from onenet_apply.backends.sandbox import SandboxBackend
from onenet_apply.backends.sandbox.recording import Recording
from tests.test_credentials_encrypted import decrypted_rows, keyfile

SITE = "bench"


def interrupt_on_second(real: Callable[..., object], calls: list[int]) -> Callable[..., object]:
    """`real`, which raises KeyboardInterrupt after its second call has done its work."""

    def interrupted(*args: object) -> object:
        result = real(*args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return result

    return interrupted


def phone_users(workdir: Path) -> list[str]:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        state = backend.read_state(SITE)
        return sorted(u for u, c in state.users.items() if c.item.desk_phone != "none")
    finally:
        backend.close()


def verified(workdir: Path, rows: list[dict[str, str]]) -> bool:
    backend = SandboxBackend(workdir / ".onenet" / "sandbox.db")
    try:
        return all(backend.verify_login(SITE, r["user_id"], r["password"]) for r in rows)
    finally:
        backend.close()


@pytest.mark.parametrize(
    "where",
    ["the sync of the rows", "between the recording and the commit"],
)
def test_ctrl_c_in_a_batch_leaves_the_plain_file_with_what_committed(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    site = workdir / "site.yaml"
    site.write_text("".join(generate(600, 0, SITE)))
    calls: list[int] = []
    with monkeypatch.context() as interrupting:
        if where == "the sync of the rows":
            sync = interrupt_on_second(credentials._sync, calls)
            interrupting.setattr(credentials, "_sync", sync)
        else:  # the batch's recording done, its commit not yet
            record = interrupt_on_second(Recording.__call__, calls)
            interrupting.setattr(Recording, "__call__", record)
        result = onenet("apply", str(site), "--yes", "--credentials-out", "c.csv")
    assert result.code == 130, result.err
    rows = list(read_rows(workdir / "c.csv"))
    # the sandbox holds the first batch only, and the file each of its phones once
    assert sorted(r["user_id"] for r in rows) == phone_users(workdir) and len(rows) > 300
    assert f"Interrupted after writing {len(rows)} desk phone login details to c.csv" in result.err
    assert result.err.count("Interrupted after writing") == 1  # said once, however deep
    assert verified(workdir, rows)
    again = onenet("apply", str(site), "--yes", "--credentials-out", "d.csv")
    assert again.code == 3, again.err  # the rest created, pending activation
    more = list(read_rows(workdir / "d.csv"))
    assert sorted(r["user_id"] for r in rows + more) == phone_users(workdir)
    assert verified(workdir, more)


def test_ctrl_c_in_a_batch_leaves_the_encrypted_file_with_what_committed(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted once the sealed file with the second batch is in place."""
    key, public = keyfile(workdir)
    site = workdir / "site.yaml"
    site.write_text("".join(generate(600, 0, SITE)))
    synced = interrupt_on_second(sealed_credentials._fsync_directory, [])
    with monkeypatch.context() as interrupting:
        interrupting.setattr(sealed_credentials, "_fsync_directory", synced)
        result = onenet(
            "apply", str(site), "--yes", "--credentials-out", "c.csv.age",
            "--credentials-recipient", public,
        )  # fmt: skip
    assert result.code == 130, result.err
    rows = decrypted_rows(onenet, workdir / "c.csv.age", key)
    assert sorted(r["user_id"] for r in rows) == phone_users(workdir) and len(rows) > 300
    assert f"Interrupted after writing {len(rows)} desk phone login details" in result.err
    assert verified(workdir, rows)
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".c.csv.age")] == []


def test_ctrl_c_in_the_first_batch_leaves_no_file(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = workdir / "site.yaml"
    site.write_text("".join(generate(600, 0, SITE)))
    calls = [1]  # the first sync is the second call: interrupted at once
    monkeypatch.setattr(credentials, "_sync", interrupt_on_second(credentials._sync, calls))
    result = onenet("apply", str(site), "--yes", "--credentials-out", "c.csv")
    assert result.code == 130, result.err
    assert "login details" not in result.err
    assert not (workdir / "c.csv").exists()
    assert phone_users(workdir) == []  # the batch rolled back


def test_rows_of_an_interrupted_record_that_cannot_be_taken_out_stop_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_credentials import credential

    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        monkeypatch.setattr(credentials, "_sync", interrupt_on_second(credentials._sync, [1]))
        monkeypatch.setattr(os, "ftruncate", lambda *a: (_ for _ in ()).throw(OSError(5, "EIO")))
        with pytest.raises(KeyboardInterrupt):
            sink.record([credential("ben")])
        monkeypatch.undo()
        with pytest.raises(credentials.CredentialsFileError, match="interrupted batch"):
            sink.record([credential("carla")])
    assert sink.written == 1


def test_an_interrupt_before_an_encrypted_file_exists_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_credentials_encrypted import credential

    _, public = keyfile(tmp_path)
    sink = sealed_credentials.SealedCredentialsSink(
        "s", [x25519.Recipient.from_str(public)], directory=tmp_path
    )
    calls = [1]  # the first encryption is interrupted
    encrypt = interrupt_on_second(sealed_credentials.age_keys.encrypt, calls)
    monkeypatch.setattr(sealed_credentials.age_keys, "encrypt", encrypt)
    with pytest.raises(KeyboardInterrupt):
        sink.record([credential("u")])
    assert bytes(sink._plain) == b""  # the rows taken out of the CSV in memory too
    sink.close()
    assert list(tmp_path.glob("*c*.age*")) == [] and sink.written == 0


def test_the_rollbacks_retract_of_an_interrupted_record_takes_out_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox retracts every batch it passed to the recorder, one whose record
    was interrupted too: the sink took those rows out itself, and keeps the rest."""
    from tests.test_credentials import credential

    with CredentialsSink("berlin", tmp_path / "c.csv") as sink:
        sink.record([credential()])
        batch = [credential("ben")]
        with monkeypatch.context() as interrupting:
            interrupting.setattr(credentials, "_sync", interrupt_on_second(credentials._sync, [1]))
            with pytest.raises(KeyboardInterrupt):
                sink.record(batch)
        assert sink.written == 1  # a backend without transactions retracts nothing
        sink.retract(batch)
        assert sink.written == 1
        sink.record([credential("carla")])
    assert [row["user_id"] for row in read_rows(tmp_path / "c.csv")] == ["anna", "carla"]


def _stop_on_call(real: Callable[..., object], call: int) -> Callable[..., object]:
    """`real`, with KeyboardInterrupt instead of its `call`-th call."""
    calls: list[int] = []

    def stopped(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return stopped


def _rows_said(result_err: str, csv_name: str) -> int:
    import re

    found = re.search(
        rf"Interrupted after writing (\d+) desk phone login details? to {csv_name}", result_err
    )
    assert found, result_err
    return int(found.group(1))


def test_ctrl_c_as_a_single_site_apply_reports_says_where_the_login_details_are(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the last batch, while the apply line is written: the file is whole."""
    from onenet_apply.cli import apply as apply_cli

    site = workdir / "site.yaml"
    site.write_text("".join(generate(60, 0, SITE)))
    monkeypatch.setattr(apply_cli, "summarise", _stop_on_call(apply_cli.summarise, 1))
    result = onenet("apply", str(site), "--yes", "--credentials-out", "c.csv")
    assert result.code == 130
    rows = list(read_rows(workdir / "c.csv"))
    assert _rows_said(result.err, "c.csv") == len(rows) > 40
    assert result.err.count("Interrupted after writing") == 1


def test_ctrl_c_between_the_sites_of_an_apply_says_where_the_login_details_are(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.sitefile import validate

    sites = workdir / "sites"
    sites.mkdir()
    for n in range(2):
        (sites / f"s{n}.yaml").write_text("".join(generate(30, 0, f"s{n}")))
    # planned (two reads), then each file read again as it is applied: the second interrupted
    monkeypatch.setattr(validate, "validate_file", _stop_on_call(validate.validate_file, 4))
    result = onenet("apply", "sites", "--yes", "--jobs", "1", "--credentials-out", "c.csv")
    assert result.code == 130
    rows = list(read_rows(workdir / "c.csv"))
    assert {r["site"] for r in rows} == {"s0"}
    assert _rows_said(result.err, "c.csv") == len(rows) > 20


def test_ctrl_c_in_a_credentials_reset_says_where_the_new_details_are(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = workdir / "site.yaml"
    site.write_text("".join(generate(30, 0, SITE)))
    assert onenet("apply", str(site), "--yes", "--credentials-out", "first.csv").code == 3
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    reset_login = _stop_on_call(SandboxBackend.reset_login, 4)
    monkeypatch.setattr(SandboxBackend, "reset_login", reset_login)
    result = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "r.csv"
    )
    assert result.code == 130
    rows = list(read_rows(workdir / "r.csv"))
    assert _rows_said(result.err, "r.csv") == len(rows) == 3
    assert verified(workdir, rows)
