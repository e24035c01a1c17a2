"""Credentials encrypted to age recipients: `--credentials-recipient` writes a `.csv.age`
file that the identity decrypts to every issued credential, and no plain text of it
ever touches the disk, during the run or after a rollback or a kill.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from benchmarks.sitegen import generate
from onenet_apply.apply import sealed_credentials
from onenet_apply.apply.credentials import CredentialsFileError, csv_bytes
from onenet_apply.apply.sealed_credentials import SealedCredentialsSink
from onenet_apply.backends.base import Credential
from onenet_apply.backends.sandbox import SandboxBackend
from tests.conftest import EXAMPLE
from tests.kill_kit import kill_onenet

SITE = "berlin-hq"
PHONES = 11  # desk phones of the example site


def keyfile(directory: Path, name: str = "key.txt") -> tuple[Path, str]:
    """An identity file as age-keygen writes it, and its public key."""
    identity = x25519.Identity.generate()
    public = str(identity.to_public())
    path = directory / name
    path.write_text(f"# created: 2026-11-26T12:00:00Z\n# public key: {public}\n{identity}\n")
    return path, public


def credential(user: str, password: str = "Abcdef12!x") -> Credential:
    return Credential(
        "s", user, user, "+4930123", "0123", "yealink-t54w", f"{user}.1", password, "t", "created"
    )


def decrypted_rows(onenet, file: Path, key: Path) -> list[dict[str, str]]:
    """The rows `onenet credentials show` prints."""
    result = onenet("credentials", "show", str(file), "--identity", str(key))
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def sandbox(workdir: Path) -> SandboxBackend:
    return SandboxBackend(workdir / ".onenet" / "sandbox.db")


def phone_users(workdir: Path, site: str = SITE) -> list[str]:
    backend = sandbox(workdir)
    try:
        state = backend.read_state(site)
        return sorted(u for u, c in state.users.items() if c.item.desk_phone != "none")
    finally:
        backend.close()


def all_verify(workdir: Path, rows: list[dict[str, str]], site: str = SITE) -> bool:
    backend = sandbox(workdir)
    try:
        return all(backend.verify_login(site, r["user_id"], r["password"]) for r in rows)
    finally:
        backend.close()


def test_the_identity_decrypts_every_issued_credential(onenet, workdir: Path) -> None:
    key, public = keyfile(workdir)
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-recipient", public)
    assert result.code == 3, result.err
    [sealed] = workdir.glob("onenet-credentials-berlin-hq-*.csv.age")
    assert list(workdir.glob("*.csv")) == []
    assert sealed.stat().st_mode & 0o777 == 0o600
    assert sealed.read_bytes().startswith(b"age-encryption.org/v1\n")  # an ordinary age file
    assert f"to {sealed.name}" in result.out
    rows = decrypted_rows(onenet, sealed, key)
    assert sorted(r["user_id"] for r in rows) == phone_users(workdir)
    assert len(rows) == PHONES and all_verify(workdir, rows)
    # exactly the CSV a plain run writes: header and quoting included
    plain = pyrage.decrypt(
        sealed.read_bytes(), [x25519.Identity.from_str(key.read_text().split()[-1])]
    )
    header = [list(rows[0])]
    assert plain == csv_bytes(header + [list(r.values()) for r in rows])


def test_each_of_two_recipients_decrypts(onenet, workdir: Path) -> None:
    first, first_public = keyfile(workdir, "first.txt")
    second, second_public = keyfile(workdir, "second.txt")
    recipients = workdir / "recipients.txt"
    recipients.write_text(f"# the people who hand out phones\n\n  {second_public}\n")
    result = onenet(
        "apply", str(EXAMPLE), "--yes", "--credentials-out", "creds.csv.age",
        "--credentials-recipient", first_public, "--credentials-recipients-file", str(recipients),
    )  # fmt: skip
    assert result.code == 3, result.err
    one = decrypted_rows(onenet, workdir / "creds.csv.age", first)
    two = decrypted_rows(onenet, workdir / "creds.csv.age", second)
    assert one == two and len(one) == PHONES and all_verify(workdir, one)
    stranger, _ = keyfile(workdir, "stranger.txt")
    refused = onenet("credentials", "show", "creds.csv.age", "--identity", str(stranger))
    assert refused.code == 1 and refused.out == ""
    assert refused.err.strip().splitlines() == [
        f"Error: creds.csv.age: cannot decrypt: it was not encrypted to the identity in {stranger}"
    ]


def test_recipients_from_the_environment_and_the_identity_from_stdin(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, public = keyfile(workdir)
    _, other = keyfile(workdir, "other.txt")
    monkeypatch.setenv("ONENET_CREDENTIALS_RECIPIENTS", f"{public}, {other}")
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    [sealed] = workdir.glob("onenet-credentials-*.csv.age")
    monkeypatch.setattr(sys, "stdin", io.StringIO(key.read_text()))
    result = onenet("credentials", "show", str(sealed), "--identity", "-")
    assert result.code == 0 and result.out.count('"berlin-hq"') == PHONES


def test_no_plain_text_file_exists_at_any_moment_of_the_run(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After every write the sink makes (3 batches, one rolled back), every file in the
    directory is searched for every password recorded so far: none is there in clear,
    and every credentials file is a whole age file."""
    site = workdir / "site.yaml"
    site.write_text("".join(generate(150, 0, "bench")))
    key, public = keyfile(workdir)
    seen: set[str] = set()
    checks = []
    original = SealedCredentialsSink._seal

    def scan() -> list[Path]:
        files = [p for p in workdir.rglob("*") if p.is_file()]
        assert not [p for p in files if p.name.endswith(".csv")]
        for path in files:
            data = path.read_bytes()
            assert not [pw for pw in seen if pw.encode() in data], f"a password is in {path}"
        return files

    def checked_seal(self: SealedCredentialsSink) -> None:
        seen.update(line.split('","')[7] for line in self._plain.decode().splitlines()[1:])
        original(self)
        assert [p.name for p in scan() if ".tmp" in p.name] == []
        checks.append(len(seen))

    def scanned(rename):  # the moment the new file is whole, before it takes the name
        def call(source, target, *args, **kwargs):
            scan()
            return rename(source, target, *args, **kwargs)

        return call

    monkeypatch.setattr(SealedCredentialsSink, "_seal", checked_seal)
    monkeypatch.setattr(os, "replace", scanned(os.replace))
    monkeypatch.setattr(os, "link", scanned(os.link))
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "nth=150,mode=rollback")
    first = onenet("apply", str(site), "--yes", "--credentials-recipient", public)
    assert first.code == 3, first.err
    assert len(checks) >= 3  # every batch, and the rollback, was checked
    [sealed] = workdir.glob("*.csv.age")
    rows = decrypted_rows(onenet, sealed, key)
    assert all_verify(workdir, rows, "bench")  # the rolled-back batch left no row
    assert len(rows) < len(phone_users(workdir, "bench")) + len(checks) * 100


def test_a_rolled_back_batch_leaves_only_committed_credentials(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, public = keyfile(workdir)
    monkeypatch.setenv("ONENET_SANDBOX_FAULTS", "nth=6,mode=rollback")
    result = onenet(
        "apply", str(EXAMPLE), "--yes", "--credentials-out", "c.csv.age",
        "--credentials-recipient", public,
    )  # fmt: skip
    assert result.code == 3, result.err
    rows = decrypted_rows(onenet, workdir / "c.csv.age", key)
    assert sorted(r["user_id"] for r in rows) == phone_users(workdir)  # one row each
    assert all_verify(workdir, rows)


def test_a_first_batch_rolled_back_leaves_no_file(tmp_path: Path) -> None:
    _, public = keyfile(tmp_path)
    sink = SealedCredentialsSink("s", [x25519.Recipient.from_str(public)], directory=tmp_path)
    cred = credential("u")
    sink.record([cred])
    assert len(list(tmp_path.glob("*.csv.age"))) == 1
    sink.retract([cred])
    sink.close()
    assert list(tmp_path.glob("*.csv.age")) == [] and sink.written == 0


def test_killed_applies_leave_a_decryptable_file(tmp_path: Path) -> None:
    """SIGKILL mid-apply: the file is whole (the rename is atomic), its rows work."""
    rng = random.Random(20261126)
    key, public = keyfile(tmp_path)
    identity = [x25519.Identity.from_str(key.read_text().split()[-1])]
    site = tmp_path / "site.yaml"
    site.write_text("".join(generate(600, 0, "bench")))
    caught = 0
    for run in range(4):
        workdir = tmp_path / f"run-{run}"
        workdir.mkdir()
        command = ["apply", str(site), "--yes", "--credentials-recipient", public]
        kill_onenet(workdir, command, rng, "SELECT COUNT(*) FROM users", 500)
        for sealed in workdir.glob("*.csv.age"):
            plain = pyrage.decrypt(sealed.read_bytes(), identity).decode()
            rows = list(csv.DictReader(io.StringIO(plain)))
            caught += bool(rows)
            backend = sandbox(workdir)
            committed = sum(
                backend.verify_login("bench", r["user_id"], r["password"]) for r in rows
            )
            backend.close()
            assert committed >= len(rows) - 100  # only the batch in flight may not have committed
        for temp in workdir.glob(".*.tmp"):  # a kill between write and rename: encrypted too
            assert temp.read_bytes().startswith(b"age-encryption.org/v1\n")
        assert not list(workdir.glob("*.csv"))
    assert caught >= 2, caught  # kills landed after credentials were written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--credentials-recipient", "age1notakey"], "--credentials-recipient: not a valid age public key"),
        (["--credentials-recipient", "ssh-ed25519 AAAA"], "--credentials-recipient: not an age public key (age1...): 'ssh-ed25519 AAAA'"),
        (["--credentials-recipient", "@KEY", "--credentials-out", "c.csv"], "--credentials-out c.csv: an encrypted credentials file's name ends in .age"),
        (["--credentials-out", "c.csv.age"], "--credentials-out c.csv.age names an encrypted file: give --credentials-recipient"),
        (["--credentials-recipients-file", "missing.txt"], "cannot read missing.txt: No such file or directory"),
    ],
)  # fmt: skip
def test_bad_recipients_are_refused_before_anything_is_applied(
    onenet, workdir: Path, args: list[str], message: str
) -> None:
    _, public = keyfile(workdir)
    args = [public if a == "@KEY" else a for a in args]
    result = onenet("apply", str(EXAMPLE), "--yes", *args)
    assert result.code == 1 and "Traceback" not in result.err
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not sandbox(workdir).read_state(SITE).exists
    assert [p.name for p in workdir.iterdir() if p.name != "key.txt"] == [".onenet"]


def test_a_private_key_given_as_recipient_is_refused_and_never_repeated(
    onenet, workdir: Path
) -> None:
    key, _ = keyfile(workdir)
    secret = key.read_text().split()[-1]
    recipients = workdir / "recipients.txt"
    recipients.write_text(f"# oops\n{secret}\n")
    for args, says in (
        (["--credentials-recipient", secret], "a private key (AGE-SECRET-KEY-...) is on the"),
        (["--credentials-recipients-file", str(recipients)], f"{recipients}:2:1: this is a"),
    ):
        result = onenet("credentials", "reset", "--site", SITE, "--all", "--yes", *args)
        assert result.code == 1 and says in result.err
        assert secret[15:] not in result.err + result.out


@pytest.mark.parametrize(
    "args",
    [
        ["credentials", "show", "c.csv.age", "--identity", "@SECRET"],
        ["credentials", "show", "@SECRET"],
        ["credentials", "show", "x@SECRET.csv.age", "--identity", "k.txt"],
        ["apply", str(EXAMPLE), "--yes", "--credentials-recipients-file", "@SECRET"],
        ["apply", str(EXAMPLE), "--yes", "--credentials-recipient", "x@SECRET"],
        ["apply", str(EXAMPLE), "--yes", "--credentials-out", "@SECRET.csv"],
        ["credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-out", "@s.csv"],
        ["plan", str(EXAMPLE), "--out", "@SECRET.json"],
        ["validate", "@SECRET"],
        ["plan", "@s"],
        ["plan", str(EXAMPLE), "--backend", "sandbox:@SECRET"],
        ["history", "--site", "@SECRET"],
        ["credentials", "reset", "--site", "./@SECRET", "--all", "--yes"],
    ],
    ids=["identity", "show-file", "in-a-file-name", "recipients-file", "in-a-recipient",
         "credentials-out", "reset-credentials-out", "plan-out", "validate-file",
         "plan-file-lower-case", "backend", "history-site", "reset-site"],
)  # fmt: skip
def test_a_private_key_where_a_file_or_key_belongs_is_refused_and_never_repeated(
    onenet, workdir: Path, args: list[str]
) -> None:
    """A key pasted where a file name belongs (any case, anywhere in the name) is named
    as a private key, never printed back as "cannot read AGE-SECRET-KEY-...", and
    nothing is created."""
    key, public = keyfile(workdir)
    secret = key.read_text().split()[-1]
    (workdir / "c.csv.age").write_bytes(
        sealed_credentials.age_keys.encrypt(b"x\n", [x25519.Recipient.from_str(public)])
    )
    before = sorted(p.name for p in workdir.iterdir())
    shown = secret.lower() if any(a.startswith("@s") for a in args) else secret
    result = onenet(*(a.replace("@SECRET", shown).replace("@s", shown) for a in args))
    assert result.code == 1 and "Traceback" not in result.err
    assert "private key (AGE-SECRET-KEY-...)" in result.err
    body = secret.removeprefix("AGE-SECRET-KEY-")
    assert body[1:5] not in (result.err + result.out).upper()  # the key after its "1"
    assert sorted(p.name for p in workdir.iterdir()) == before
    assert not sandbox(workdir).read_state(SITE).exists


def test_a_private_key_where_the_environment_names_a_backend_is_never_shown(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, _ = keyfile(workdir)
    secret = key.read_text().split()[-1]
    monkeypatch.setenv("ONENET_BACKEND", f"sandbox:{secret}")
    result = onenet("plan", str(EXAMPLE))
    assert result.code == 1
    assert result.err.startswith("Error: $ONENET_BACKEND holds a private key (AGE-SECRET-KEY")
    assert secret[16:24] not in result.err.upper()


def test_credentials_reset_encrypts_too(onenet, workdir: Path) -> None:
    key, public = keyfile(workdir)
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-recipient", public).code == 3
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    result = onenet(
        "credentials", "reset", "--site", SITE, "--all", "--yes", "--credentials-recipient", public
    )
    assert result.code == 0, result.err
    newest = max(workdir.glob("*.csv.age"), key=os.path.getmtime)
    rows = decrypted_rows(onenet, newest, key)
    assert {r["event"] for r in rows} == {"reset"} and all_verify(workdir, rows)


def test_show_reads_plain_files_and_refuses_what_it_cannot_read(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-out", "plain.csv").code == 3
    shown = onenet("credentials", "show", "plain.csv")
    assert shown.code == 0 and shown.out == (workdir / "plain.csv").read_text()
    key, public = keyfile(workdir)
    sealed = workdir / "s.csv.age"
    sealed.write_bytes(pyrage.encrypt(b"a,b\n", [x25519.Recipient.from_str(public)]))
    damaged = workdir / "d.csv.age"
    damaged.write_bytes(sealed.read_bytes()[:-5])
    cases = {
        ("s.csv.age",): "Error: s.csv.age is encrypted: give --identity KEYFILE",
        (
            "d.csv.age",
            "--identity",
            str(key),
        ): "Error: d.csv.age: cannot decrypt: the file is damaged",
        ("s.csv.age", "--identity", "s.csv.age"): "Error: s.csv.age: not UTF-8 text",
        ("s.csv.age", "--identity", "plain.csv"): "Error: plain.csv:1:1: not an age identity",
        ("missing.csv",): "Error: cannot read missing.csv: No such file or directory",
    }
    for args, message in cases.items():
        result = onenet("credentials", "show", *args)
        assert result.code == 1 and result.out == "", args
        assert result.err.startswith(message) and len(result.err.strip().splitlines()) == 1, (
            result.err
        )


def test_the_sealed_sink_reports_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, public = keyfile(tmp_path)
    sink = SealedCredentialsSink("s", [x25519.Recipient.from_str(public)], directory=tmp_path)
    cred = credential("u")

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sealed_credentials.os, "fsync", full)
    with pytest.raises(
        CredentialsFileError, match="no credential was committed, and no file was created"
    ):
        sink.record([cred])
    assert list(tmp_path.glob("*.age")) == list(tmp_path.glob(".*.tmp")) == []


def test_a_crash_before_the_rename_leaves_the_previous_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new file is written and synced beside the old one, then renamed over it:
    a process stopped before the rename leaves the file as the last batch left it."""
    key, public = keyfile(tmp_path)
    identity = [x25519.Identity.from_str(key.read_text().split()[-1])]
    sink = SealedCredentialsSink("s", [x25519.Recipient.from_str(public)], directory=tmp_path)
    first = credential("a")
    second = credential("b", "Bcdefg12!x")
    sink.record([first])
    before = pyrage.decrypt(sink.path.read_bytes(), identity)

    class Killed(BaseException):
        pass

    def killed(*args: object) -> None:
        raise Killed

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(Killed):
        sink.record([second])
    assert pyrage.decrypt(sink.path.read_bytes(), identity) == before
    assert b"Bcdefg12" not in before


def test_the_sealed_sink_never_overwrites_and_stops_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, public = keyfile(tmp_path)
    to = [x25519.Recipient.from_str(public)]
    with pytest.raises(ValueError, match="at least one recipient"):
        SealedCredentialsSink("s", [], directory=tmp_path)
    with pytest.raises(CredentialsFileError, match=r"c\.csv: an encrypted credentials file's"):
        SealedCredentialsSink("s", to, tmp_path / "c.csv")
    # a default name taken meanwhile (another run this second): the next one
    sink = SealedCredentialsSink("s", to, directory=tmp_path)
    taken = sink.path
    taken.write_text("someone else's")
    sink.record([])  # nothing to write: no file
    sink.record([credential("a")])
    assert sink.path.name == taken.name.replace(".csv.age", "-2.csv.age")
    assert taken.read_text() == "someone else's"
    sink.retract([credential("b")])  # not the last batch recorded: nothing changes
    assert sink.written == 1
    # a named file taken meanwhile: refused, nothing written
    named = SealedCredentialsSink("s", to, tmp_path / "n.csv.age")
    (tmp_path / "n.csv.age").write_text("someone else's")
    with pytest.raises(CredentialsFileError, match="exists; credentials files are never"):
        named.record([credential("a")])
    # a rollback that cannot be written: nothing more is recorded
    sink.record([credential("c")])

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sealed_credentials.os, "fsync", full)
    sink.retract([credential("c")])
    with pytest.raises(CredentialsFileError, match="rolled back that could not be taken out"):
        sink.record([credential("d")])
    monkeypatch.undo()
    sink.close()
    assert list(tmp_path.glob(".*.tmp")) == []


def test_a_failed_write_after_the_first_keeps_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, public = keyfile(tmp_path)
    sink = SealedCredentialsSink("s", [x25519.Recipient.from_str(public)], directory=tmp_path)
    sink.record([credential("a")])

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sealed_credentials.os, "fsync", full)
    with pytest.raises(CredentialsFileError, match="it holds 1 credential committed before"):
        sink.record([credential("b")])
    monkeypatch.undo()
    with pytest.raises(CredentialsFileError, match="could not be written; stopping"):
        sink.record([credential("b")])
    identity = [x25519.Identity.from_str(key.read_text().split()[-1])]
    assert pyrage.decrypt(sink.path.read_bytes(), identity).count(b"\n") == 2  # header, a


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# nothing but a comment\n\n", "holds no identity"),
        ("age1qqqq\n", "k.txt:1:1: this is a public key"),
        ("x" * (1 << 20) + "\n", "longer than 1048576 bytes"),
    ],
)
def test_unusable_identity_files_are_one_line(
    onenet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _, public = keyfile(tmp_path)
    (tmp_path / "s.csv.age").write_bytes(
        pyrage.encrypt(b"a,b\n", [x25519.Recipient.from_str(public)])
    )
    (tmp_path / "k.txt").write_text(text)
    result = onenet("credentials", "show", "s.csv.age", "--identity", "k.txt")
    assert result.code == 1 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_an_empty_recipients_file_or_an_existing_file_is_refused(onenet, workdir: Path) -> None:
    (workdir / "none.txt").write_text("# nobody yet\n")
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-recipients-file", "none.txt")
    assert result.code == 1 and "none.txt: holds no recipient" in result.err
    _, public = keyfile(workdir)
    (workdir / "c.csv.age").write_text("kept")
    result = onenet(
        "apply", str(EXAMPLE), "--yes", "--credentials-recipient", public,
        "--credentials-out", "c.csv.age",
    )  # fmt: skip
    assert result.code == 1 and "c.csv.age exists; credentials files are never" in result.err
    assert (workdir / "c.csv.age").read_text() == "kept"
    assert not sandbox(workdir).read_state(SITE).exists


def test_show_refuses_a_file_too_long_to_be_credentials(
    onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onenet_apply.cli import credentials

    monkeypatch.setattr(credentials, "SHOW_LIMIT", 10)
    (workdir / "big.csv").write_text("x" * 11)
    result = onenet("credentials", "show", "big.csv")
    assert result.code == 1 and "big.csv: longer than 10 bytes" in result.err


def test_an_encrypted_file_where_git_would_pick_it_up_is_refused(onenet, workdir: Path) -> None:
    """The git rule holds for encrypted files too: a key that leaks later would open
    every file ever committed. Refused before anything is applied, naming the
    pattern to ignore; once ignored, the same apply writes the file."""
    import subprocess

    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    _, public = keyfile(workdir)
    result = onenet("apply", str(EXAMPLE), "--yes", "--credentials-recipient", public)
    assert result.code == 1 and "refusing to write login details to" in result.err
    assert f"add onenet-credentials-*.csv.age to {workdir / '.gitignore'}" in result.err
    assert not sandbox(workdir).read_state(SITE).users
    (workdir / ".gitignore").write_text("onenet-credentials-*.csv.age\n")
    assert onenet("apply", str(EXAMPLE), "--yes", "--credentials-recipient", public).code == 3
    assert len(list(workdir.glob("*.csv.age"))) == 1
