"""`-y/--yes` and the question it answers, shared by every command that changes
much at once: asked on a terminal, required without one (CI never hangs on a prompt)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click


def yes_option(help_text: str) -> Callable[..., Any]:
    """`-y/--yes` (into `yes`), with the command's own help text."""
    return click.option("-y", "--yes", "yes", is_flag=True, help=help_text)


def confirm(yes: bool, question: str, command: str, declined: str) -> None:
    """Go on with --yes, or when the terminal's user says yes to `question`; without a
    terminal, refuse and name --yes. `declined` is the error when the answer is no."""
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(
            f"{command} asks for confirmation on a terminal; without one, add --yes"
        )
    if not click.confirm(question, err=True):
        raise click.ClickException(declined)
