"""How the loader reports a problem: at the mark where it is, with the path of
the value it belongs to, as the builder (loader.py) stands when it finds it."""

from __future__ import annotations

from typing import Any

from onenet_apply.sitefile.load_state import NO_KEY, Frame, Session
from onenet_apply.sitefile.problems import Path, Position, Problem
from onenet_apply.sitefile.reading import LoadAborted
from onenet_apply.sitefile.schema import describe
from onenet_apply.sitefile.sourcemap import Mark, line_col

BAD_KEY = object()  # a key that is not a string: its entry is dropped


class LoadReporting:
    """Problems at a mark, for a builder of one file's data (`_Builder`)."""

    stack: list[Frame]
    at: Path  # the path of the file's root value within the whole site
    session: Session
    display: str

    def _bad_key(self, value: Any, where: Mark, raw: str | None) -> None:
        frame = self.stack[-1]
        frame.key = BAD_KEY
        if value is None:
            self._problem(where, "empty key")
        else:
            written = raw if raw is not None else str(value)
            self._problem(
                where,
                f"key `{written}` is read by YAML as {describe(value)}; keys must be "
                f'strings: write "{written}" in quotes',
            )
            frame.bad_key_name = written  # problems inside its value keep their path

    # -- problems -----------------------------------------------------------
    def _path(self) -> Path:
        path: list[str | int] = list(self.at)
        for frame in self.stack:
            if isinstance(frame.container, dict):
                if frame.key is not NO_KEY and isinstance(frame.key, str):
                    path.append(frame.key)
                elif frame.key is BAD_KEY and frame.bad_key_name is not None:
                    path.append(frame.bad_key_name)
            else:
                path.append(len(frame.container))
        return tuple(path)

    def _problem(self, where: Mark, message: str, path: Path | None = None) -> None:
        self.session.problems.add(
            Problem(
                Position(self.display, *line_col(where)),
                self._path() if path is None else path,
                message,
            )
        )

    def _poison(self, where: Mark, message: str) -> None:
        """Report a value the loader cannot accept; later checks skip its path."""
        path = self._path()
        self.session.poisoned.add(path)
        self._problem(where, message, path)

    def _abort(self, where: Mark, message: str) -> None:
        raise LoadAborted(Problem(Position(self.display, *line_col(where)), self._path(), message))
