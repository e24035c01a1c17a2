"""`onenet sandbox ...` through the real entry point: output, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onenet_apply.backends.sandbox import SandboxBackend
from tests.sandbox_kit import SITE, create_group, create_user, user_in_state


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox at the default place under a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONENET_BACKEND", raising=False)
    path = tmp_path / ".onenet" / "sandbox.db"
    backend = SandboxBackend(path)
    user_in_state(backend, "owner", 9, "activated")
    create_user(backend, "anna", 1)
    create_user(backend, "ben", 2, desk_phone="none")
    create_group(backend, "hunt_group", "sales", 1, activate=False)
    backend.close()
    return path


def states(path: Path) -> dict[str, str]:
    backend = SandboxBackend(path)
    state = backend.read_state(SITE)
    backend.close()
    out = {f"user/{k}": str(v.lifecycle) for k, v in state.users.items()}
    out.update({f"hunt_group/{k}": str(v.lifecycle) for k, v in state.hunt_groups.items()})
    return out


def test_status_table(onenet, sandbox: Path) -> None:
    result = onenet("sandbox", "status", "--site", SITE)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"site {SITE}: activation manual"
    assert lines[1].split() == ["TYPE", "ID", "STATE", "NUMBER", "EXTENSION", "NAME"]
    assert lines[2].split()[:5] == ["user", "anna", "pending", "+493012345601", "5601"]
    assert lines[-1] == "1 activated, 3 pending"


def test_status_json(onenet, sandbox: Path) -> None:
    result = onenet("sandbox", "status", "--site", SITE, "--format", "json")
    document = json.loads(result.out)
    assert document["site"] == SITE and document["activation"] == "manual"
    assert {(o["type"], o["id"], o["state"]) for o in document["objects"]} == {
        ("user", "owner", "activated"),
        ("user", "anna", "pending"),
        ("user", "ben", "pending"),
        ("hunt_group", "sales", "pending"),
    }


def test_activate_named_and_qualified(onenet, sandbox: Path) -> None:
    result = onenet("sandbox", "activate", "--site", SITE, "anna", "hunt_group/sales")
    assert result.code == 0
    assert result.out.splitlines() == ["user/anna: activated", "hunt_group/sales: activated"]
    assert states(sandbox)["user/ben"] == "pending"


def test_activate_all_and_nothing_left(onenet, sandbox: Path) -> None:
    assert onenet("sandbox", "activate", "--site", SITE, "--all").code == 0
    assert set(states(sandbox).values()) == {"activated"}
    again = onenet("sandbox", "activate", "--site", SITE, "--all")
    assert again.code == 0 and again.err.strip() == "nothing is pending"


def test_fail(onenet, sandbox: Path) -> None:
    result = onenet("sandbox", "fail", "--site", SITE, "ben")
    assert (result.code, result.out) == (0, "user/ben: failed\n")
    assert states(sandbox)["user/ben"] == "failed"


def test_unknown_or_not_pending_ids_change_nothing(onenet, sandbox: Path) -> None:
    before = states(sandbox)
    result = onenet("sandbox", "activate", "--site", SITE, "anna", "zed", "owner")
    assert result.code == 1
    assert result.err.strip() == (
        "Error: not pending: zed: no such user or group; owner: it is activated, not pending"
    )
    assert states(sandbox) == before


@pytest.mark.parametrize(
    "args",
    [
        ["sandbox", "activate", "--site", SITE],
        ["sandbox", "activate", "--site", SITE, "anna", "--all"],
        ["sandbox", "activate", "anna"],
        ["sandbox", "configure", "--site", SITE, "--licence", "professional"],
    ],
)
def test_usage_errors_exit_1(onenet, sandbox: Path, args: list[str]) -> None:
    result = onenet(*args)
    assert result.code == 1
    assert "Error:" in result.err and "Traceback" not in result.err


def test_configure_activation_and_licences(onenet, sandbox: Path) -> None:
    result = onenet(
        "sandbox",
        "configure",
        "--site",
        SITE,
        "--activation",
        "after:30",
        "--licence",
        "professional=5",
        "--licence",
        "standard=9",
    )
    assert result.code == 0
    assert result.out.strip() == (
        f"site {SITE}: activation after:30, licences professional=5, standard=9"
    )
    onenet("sandbox", "configure", "--site", SITE, "--licence", "standard=none")
    backend = SandboxBackend(sandbox)
    assert backend.settings(SITE) == {"activation": "after:30", "licences": {"professional": 5}}
    backend.close()
    bad = onenet("sandbox", "configure", "--site", SITE, "--activation", "sometimes")
    assert bad.code == 1
    assert "use manual, immediate or after:SECONDS" in bad.err


def test_unknown_site(onenet, sandbox: Path) -> None:
    result = onenet("sandbox", "status", "--site", "nowhere")
    assert result.code == 1
    assert result.err.strip() == "Error: no site nowhere in the sandbox .onenet/sandbox.db"


def test_backend_option_and_environment(
    onenet, sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere.db"
    SandboxBackend(other).configure("lab")
    assert onenet("sandbox", "status", "--site", "lab", "--backend", f"sandbox:{other}").code == 0
    monkeypatch.setenv("ONENET_BACKEND", f"sandbox:{other}")
    assert onenet("sandbox", "status", "--site", "lab").code == 0
    assert onenet("sandbox", "status", "--site", SITE).code == 1  # not in the other sandbox
    unknown = onenet("sandbox", "status", "--site", SITE, "--backend", "ftp://x")
    assert unknown.code == 1 and "unknown backend" in unknown.err


def test_a_corrupt_sandbox_file_is_a_clear_error(onenet, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    result = onenet("sandbox", "status", "--site", SITE, "--backend", f"sandbox:{bad}")
    assert result.code == 1
    assert result.err == f"Error: {bad} is not a sandbox database: check --backend\n"
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("=5", "--licence '=5': write NAME=COUNT, e.g. professional=10"),
        (
            "gold=5",
            "--licence 'gold=5': gold is not a package or option of the catalogue; it has: ",
        ),
        ("profesional=5", "profesional is not a package or option of the catalogue (did you mean"),
        ("professional=\uff10", "the count must be 0 to 1,000,000 in digits 0-9"),
        ("professional=" + "9" * 23, "the count must be 0 to 1,000,000 in digits 0-9"),
        ("professional=1000001", "the count must be 0 to 1,000,000 in digits 0-9"),
    ],
)
def test_configure_refuses_a_licence_the_catalogue_or_a_count_cannot_hold(
    onenet, sandbox: Path, item: str, message: str
) -> None:
    result = onenet("sandbox", "configure", "--site", SITE, "--licence", item)
    assert result.code == 1
    assert message in result.err and "Traceback" not in result.err
    assert SandboxBackend(sandbox).settings(SITE)["licences"] is None


def test_configure_removes_a_limit_with_unlimited(onenet, sandbox: Path) -> None:
    def configure(*items: str) -> str:
        args = [a for item in items for a in ("--licence", item)]
        result = onenet("sandbox", "configure", "--site", SITE, *args)
        assert result.code == 0, result.err
        return result.out

    assert configure("professional=40", "standard=20").endswith(
        "licences professional=40, standard=20\n"
    )
    assert configure("standard=unlimited").endswith("licences professional=40\n")
    assert configure("professional=0").endswith("licences professional=0\n")  # owns none
    assert configure("professional=unlimited").endswith("licences unlimited\n")
    assert SandboxBackend(sandbox).settings(SITE)["licences"] is None
