"""Backends are found by URL scheme: the installed ones through the
`onenet_apply.backends` entry point group, others registered in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from onenet_apply.backends import open_backend, registry
from onenet_apply.backends.base import BackendError
from onenet_apply.backends.sandbox import SandboxBackend, open_url
from tests.memory_backend import MemoryBackend, open_memory


def test_the_sandbox_is_installed_through_its_entry_point() -> None:
    """The registry reads what importlib.metadata reads, without its start-up cost."""
    from importlib.metadata import entry_points

    ours = {name: entry.value for name, entry in registry._installed().items()}
    assert ours == {e.name: e.value for e in entry_points(group=registry.GROUP)}
    assert ours["sandbox"] == "onenet_apply.backends.sandbox:open_url"
    assert registry.factory_for("sandbox") is open_url


def test_a_distribution_on_the_path_brings_its_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package installed beside the tool registers a scheme by its entry_points.txt;
    the first distribution on the path that names a scheme wins, as in Python's own."""
    for directory, value in (("first", "tests.memory_backend:open_memory"), ("later", "x:y")):
        info = tmp_path / directory / "onenet_toy-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text(
            "[console_scripts]\ntoy = x:y\n\n"
            f"[{registry.GROUP}]\n# a comment\nmemory = {value} [extra]\n"
        )
    monkeypatch.setattr(sys, "path", [str(tmp_path / "first"), str(tmp_path / "later"), *sys.path])
    registry._installed.cache_clear()
    try:
        assert isinstance(open_backend("memory:toy"), MemoryBackend)
        assert "toy" not in registry.schemes()  # another group's entry is not a backend
    finally:
        registry._installed.cache_clear()


def test_an_unknown_scheme_lists_the_installed_backends_and_how_to_write_them(
    onenet, workdir: Path
) -> None:
    result = onenet("plan", "site.yaml", "--backend", "sip://pbx.example:5060")
    assert result.code == 1
    assert (
        "unknown backend 'sip://pbx.example:5060': installed backends: "
        "ocip (ocip://127.0.0.1[:PORT]/ENTERPRISE), ocips (ocips://HOST[:PORT]/ENTERPRISE), "
        "sandbox (sandbox:PATH, e.g. sandbox:.onenet/sandbox.db)" in result.err
    )


def test_a_url_without_a_scheme_is_refused_the_same_way() -> None:
    with pytest.raises(BackendError, match=r"unknown backend 'sandbox\.db': installed backends"):
        open_backend("sandbox.db")


def test_a_registered_backend_opens_by_its_scheme_and_is_listed() -> None:
    registry.register("memory", open_memory)
    try:
        assert isinstance(open_backend("memory:one"), MemoryBackend)
        with pytest.raises(BackendError, match=r"memory \(memory:NAME\), ocip \("):
            open_backend("nope:x")
    finally:
        registry.unregister("memory")
    with pytest.raises(BackendError, match="unknown backend 'memory:one'"):
        open_backend("memory:one")


def test_a_backend_that_cannot_load_is_named_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        name, value = "broken", "no_such_module:open"

        def load(self) -> object:
            raise ModuleNotFoundError("No module named 'no_such_module'")

    monkeypatch.setattr(registry, "_installed", lambda: {"broken": Broken()})  # type: ignore[dict-item]
    with pytest.raises(BackendError, match="the backend 'broken' is installed but cannot load"):
        open_backend("broken:x")


def test_sandbox_urls_take_a_path_with_or_without_slashes(tmp_path: Path) -> None:
    for url in (f"sandbox:{tmp_path / 'a.db'}", f"sandbox://{tmp_path / 'a.db'}"):
        backend = open_backend(url, create=True)
        assert isinstance(backend, SandboxBackend) and backend.path == tmp_path / "a.db"
        backend.close()
