"""Backends are found by URL scheme: the installed ones through the
`onenet_apply.backends` entry point group, others registered in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends import open_backend, registry
from onenet_apply.backends.base import BackendError
from onenet_apply.backends.sandbox import SandboxBackend
from tests.memory_backend import MemoryBackend, open_memory


def test_the_sandbox_is_installed_through_its_entry_point() -> None:
    from importlib.metadata import entry_points

    [entry] = [e for e in entry_points(group=registry.GROUP) if e.name == "sandbox"]
    assert entry.value == "onenet_apply.backends.sandbox:open_url"
    assert registry.factory_for("sandbox") is entry.load()


def test_an_unknown_scheme_lists_the_installed_backends_and_how_to_write_them(
    onenet, workdir: Path
) -> None:
    result = onenet("plan", "site.yaml", "--backend", "ocip://pbx.example:2209")
    assert result.code == 1
    assert (
        "unknown backend 'ocip://pbx.example:2209': installed backends: "
        "sandbox (sandbox:PATH, e.g. sandbox:.onenet/sandbox.db)" in result.err
    )


def test_a_url_without_a_scheme_is_refused_the_same_way() -> None:
    with pytest.raises(BackendError, match=r"unknown backend 'sandbox\.db': installed backends"):
        open_backend("sandbox.db")


def test_a_registered_backend_opens_by_its_scheme_and_is_listed() -> None:
    registry.register("memory", open_memory)
    try:
        assert isinstance(open_backend("memory:one"), MemoryBackend)
        with pytest.raises(BackendError, match=r"memory \(memory:NAME\), sandbox"):
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

    monkeypatch.setattr(registry, "_installed", lambda: {"broken": Broken()})
    with pytest.raises(BackendError, match="the backend 'broken' is installed but cannot load"):
        open_backend("broken:x")


def test_sandbox_urls_take_a_path_with_or_without_slashes(tmp_path: Path) -> None:
    for url in (f"sandbox:{tmp_path / 'a.db'}", f"sandbox://{tmp_path / 'a.db'}"):
        backend = open_backend(url, create=True)
        assert isinstance(backend, SandboxBackend) and backend.path == tmp_path / "a.db"
        backend.close()
