"""`onenet --help` and every command's: each command has help, each option says what
it does, and a group lists its commands' descriptions whole, never cut with "..."."""

from __future__ import annotations

import re

import click
import pytest

from tests.cli_tree import all_commands

COMMANDS = all_commands()


def ids(path: tuple[str, ...]) -> str:
    return " ".join(("onenet", *path))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[ids(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"{ids(path)} has no help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{ids(path)} {param.opts[0]} has no help"


GROUPS = [(p, c) for p, c in COMMANDS if isinstance(c, click.Group)]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(("path", "group"), GROUPS, ids=[ids(p) for p, _ in GROUPS])
def test_a_group_lists_its_commands_whole(onenet, path: tuple[str, ...], group) -> None:
    result = onenet(*path, "--help")
    assert result.code == 0
    listing = squeezed(result.out.partition("\nCommands:\n")[2])
    ctx = click.Context(group, info_name=path[-1] if path else "onenet")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        first_sentence = squeezed(command.help.partition("\n\n")[0]).split(". ")[0]
        assert f"{name} {first_sentence}" in listing, f"{ids(path)} --help cuts {name}"
        shown = listing.partition(f"{name} ")[2]
        assert not shown.startswith(first_sentence.removesuffix(".") + "..."), name
