"""The `onenet` command tree, walked: every command with its path of names."""

from __future__ import annotations

import click

from onenet_apply.cli.main import cli


def all_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under `onenet`, the root included (path ())."""
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(path: tuple[str, ...], command: click.Command) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path[-1] if path else "onenet")
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, f"onenet {' '.join(path)} lists {name} but has none"
                walk((*path, name), sub)

    walk((), cli)
    return found
