"""Where a BroadWorks server is, and who logs in: `ocips://` verifies TLS on port
2209, plain `ocip://` (port 2208) is for loopback unless `?insecure=1`, and the
login comes from ONENET_OCIP_USER and ONENET_OCIP_PASSWORD only, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.ocip import url
from onenet_apply.backends.ocip.backend import OcipBackend
from onenet_apply.backends.ocip.transport import SocketChannel
from tests.conftest import EXAMPLE
from tests.ocip_kit import PASSWORD, USER


def test_default_ports_and_the_enterprise() -> None:
    assert url.parse("ocips", "//bw.example/acme-ent") == url.Address(
        True, "bw.example", 2209, "acme-ent"
    )
    plain = url.parse("ocip", "//127.0.0.1/sandbox")
    assert (plain.port, plain.tls, plain.enterprise) == (2208, False, "sandbox")
    assert url.parse("ocips", "//bw.example:3209/e").port == 3209


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "localhost", "[::1]"])
def test_plain_tcp_is_for_loopback(host: str) -> None:
    assert url.parse("ocip", f"//{host}:2208/sandbox").port == 2208


def test_plain_tcp_beyond_loopback_is_refused_unless_insecure() -> None:
    with pytest.raises(url.AddressError, match=r"only for this machine.*insecure=1"):
        url.parse("ocip", "//10.1.2.3/acme")
    assert url.parse("ocip", "//10.1.2.3/acme?insecure=1").insecure


def test_a_private_certificate_authority(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert url.parse("ocips", f"//bw.example/e?ca={ca}").ca == str(ca)
    with pytest.raises(url.AddressError, match="no such file"):
        url.parse("ocips", f"//bw.example/e?ca={tmp_path / 'missing.pem'}")
    with pytest.raises(url.AddressError, match="ca= verifies TLS; use ocips://"):
        url.parse("ocip", f"//127.0.0.1/e?ca={ca}")


def test_rate_and_timeout() -> None:
    address = url.parse("ocips", "//bw.example/e?rate=20&timeout=2.5")
    assert (address.rate, address.timeout) == (20.0, 2.5)
    assert url.parse("ocips", "//bw.example/e").rate is None


@pytest.mark.parametrize(
    ("scheme", "location", "says"),
    [
        ("ocips", "bw.example/e", "no host; write ocips://HOST"),
        ("ocips", "//bw.example", "name one enterprise"),
        ("ocips", "//bw.example/a/b", "name one enterprise"),
        ("ocips", "//bw.example:99999/e", "port must be a number"),
        ("ocips", "//bw.example:0/e", "port must be a number"),
        ("ocips", "//bw.example/e?color=red", "unknown option 'color'; known: ca, insecure"),
        ("ocips", "//bw.example/e?rate=0", "rate='0': write a number above 0"),
        ("ocips", "//bw.example/e?rate=fast", "rate='fast'"),
        ("ocips", "//bw.example/e?timeout=nan", "timeout='nan'"),
        ("ocips", "//bw.example/e?rate=1&rate=2", "given twice"),
        ("ocips", "//bw.example/e?insecure=1", "ocips:// always verifies"),
        ("ocip", "//127.0.0.1/e?insecure=maybe", "write insecure=1"),
        ("ocips", "//bw.example/e#x", "fragment"),
    ],
)
def test_a_bad_url_says_what_is_wrong(scheme: str, location: str, says: str) -> None:
    with pytest.raises(url.AddressError, match=says.replace("?", r"\?")):
        url.parse(scheme, location)


@pytest.mark.parametrize(
    "location",
    [
        "//admin:hunter2@bw.example/e",
        "//admin:hunter2@bw.example:99999/e",  # checked before the port
        "//admin:hunter2@/e",  # and before the host
        "/admin:hunter2@bw.example/e",
        "//admin:hunter2@[::1/e",  # and before the URL is even split
        "//bob:hun/ter2@bw.example/e",  # whatever the password holds
        "//bob:hun#ter2@bw.example/e",
        "//bob:hun?ter2@bw.example/e",
        "//bw.example/e#bob:hunter2@",
    ],
)
def test_a_login_in_the_url_is_refused_without_repeating_it(location: str) -> None:
    with pytest.raises(url.AddressError) as refused:
        url.parse("ocips", location)
    assert "hunter2" not in str(refused.value)
    assert "set ONENET_OCIP_USER and ONENET_OCIP_PASSWORD" in str(refused.value)


def test_a_url_that_cannot_be_split_is_one_clear_error() -> None:
    with pytest.raises(url.AddressError, match=r"'ocip://\[::1/sandbox': not a URL \(.*IPv6"):
        url.parse("ocip", "//[::1/sandbox")


def test_errors_show_the_url_without_its_query() -> None:
    """A query may hold what was typed by mistake: an option's error names the option."""
    with pytest.raises(url.AddressError) as refused:
        url.parse("ocips", "//bw.example/e?password=hunter2")
    assert str(refused.value).startswith("'ocips://bw.example/e': unknown option 'password'")
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("backend", "shown"),
    [
        ("OCIP://admin:hunter2@host/e?pw=hunter2", "unknown backend 'OCIP://...@host/e'"),
        ("ocips//bob:hun/ter2@host/e", "unknown backend '...@host/e'"),
        ("sandbox://bob:hunter2@host/x.db", "sandbox:...: the sandbox is a file on this"),
    ],
)
def test_a_backend_that_is_not_there_never_shows_a_login(
    onenet, workdir: Path, backend: str, shown: str
) -> None:
    result = onenet("plan", str(EXAMPLE), "--backend", backend)
    assert result.code == 1 and "Traceback" not in result.err
    assert shown in result.err
    assert "hunter2" not in result.err + result.out and "ter2" not in result.err


def test_the_login_comes_from_the_environment_and_hides_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(url.USER_VARIABLE, USER)
    monkeypatch.setenv(url.PASSWORD_VARIABLE, PASSWORD)
    login = url.login_from_environment()
    assert (login.user, login.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(login)
    backend = url_backend("//127.0.0.1:1/sandbox")
    assert PASSWORD not in repr(backend.channel)


def url_backend(location: str) -> OcipBackend:
    from onenet_apply.backends.ocip import open_ocip

    backend = open_ocip(location, create=False)
    assert isinstance(backend.channel, SocketChannel)
    return backend


def test_a_missing_login_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(url.USER_VARIABLE, USER)
    monkeypatch.delenv(url.PASSWORD_VARIABLE, raising=False)
    with pytest.raises(BackendError, match="set ONENET_OCIP_PASSWORD in the environment"):
        url_backend("//127.0.0.1/sandbox")


def test_through_the_command_line(onenet, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each mistake is one line and exit 1; the password shows nowhere."""
    monkeypatch.delenv(url.USER_VARIABLE, raising=False)
    monkeypatch.setenv(url.PASSWORD_VARIABLE, PASSWORD)
    missing = onenet("plan", str(EXAMPLE), "--backend", "ocip://127.0.0.1/sandbox")
    assert missing.code == 1
    assert missing.err.strip().splitlines() == [
        "Error: OCI-P needs a login: set ONENET_OCIP_USER in the environment "
        "(never on the command line)"
    ]
    monkeypatch.setenv(url.USER_VARIABLE, USER)
    remote = onenet("plan", str(EXAMPLE), "--backend", "ocip://10.1.2.3/acme")
    assert remote.code == 1 and len(remote.err.strip().splitlines()) == 1
    assert "plain OCI-P sends the password in the clear" in remote.err
    unreachable = onenet("plan", str(EXAMPLE), "--backend", "ocip://127.0.0.1:1/sandbox")
    assert unreachable.code == 1
    assert unreachable.err.strip().splitlines() == [
        "Error: cannot connect to ocip://127.0.0.1:1/sandbox: Connection refused"
    ]
    for result in (missing, remote, unreachable):
        assert PASSWORD not in result.out + result.err
