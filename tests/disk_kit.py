"""A disk that fills up: writes to one file succeed for so many bytes, then fail."""

from __future__ import annotations

import errno
import os

import pytest


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, name: str, room: int) -> None:
    """Files called `name` take `room` more bytes, then the disk is full."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        nonlocal room
        if not os.readlink(f"/proc/self/fd/{fd}").endswith(f"/{name}"):
            return real_write(fd, data)
        if room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = real_write(fd, data[:room])
        room -= taken
        return taken

    monkeypatch.setattr(os, "write", write)
