"""Help that shows each command's description whole: click cuts a group's command
list to the width left beside the names ("Carry out a site file's plan (or a..."),
which hides what a newcomer reads `--help` for."""

from __future__ import annotations

import click

WHOLE = 10_000  # characters of a command's first sentence shown: all of it


class WholeHelpGroup(click.Group):
    """A group listing each command with the first sentence of its help, wrapped, never cut."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(WHOLE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
