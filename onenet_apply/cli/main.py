"""The `onenet` command line: parse options, call the core, map outcomes to exit codes.

Exit codes (README): 0 success or nothing to change; 1 error (bad input,
refusal, usage error); 2 `plan --detailed-exitcode` found changes; 3 `apply`
left deferred work (it converges by itself); 4 only blocked work is left, which
needs a human (from `plan --detailed-exitcode` and `apply`). Usage errors exit 1,
never 2, so CI cannot take a mistyped command for "changes found".
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

import click

from onenet_apply import __version__
from onenet_apply.backends.errors import BackendError
from onenet_apply.cli.exits import EXIT_ERROR
from onenet_apply.cli.help import WholeHelpGroup
from onenet_apply.endings import interrupted, stdout_closed
from onenet_apply.gcpause import gc_paused

# each command's module, imported only when the command runs (or --help lists it):
# `onenet validate` never loads the planner, `onenet plan` never loads the applier
COMMANDS = {
    "validate": "onenet_apply.cli.validate:validate",
    "plan": "onenet_apply.cli.plan:plan_command",
    "apply": "onenet_apply.cli.apply:apply_command",
    "import": "onenet_apply.cli.importing:import_command",
    "sandbox": "onenet_apply.cli.sandbox:sandbox",
    "credentials": "onenet_apply.cli.credentials:credentials",
    "history": "onenet_apply.cli.history:history_command",
    "show": "onenet_apply.cli.show:show_command",
    "unlock": "onenet_apply.cli.unlock:unlock_command",
}


COMPLETE_VAR = "_ONENET_COMPLETE"  # shell completion (README), however onenet was started


class LazyGroup(WholeHelpGroup):
    """A group whose commands are imported by name, when they are needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, _, name = where.partition(":")
        with gc_paused():  # a command's imports: modules and classes, no garbage cycles
            command: click.Command = getattr(import_module(module), name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onenet")
def cli() -> None:
    """Config-as-code for Vodafone One Net Business sites."""


# what names a file, a backend or a site where a key pasted by mistake would be shown
_PLACES = ("ONENET_BACKEND", "ONENET_STATE")


def _refuse_private_keys() -> None:
    """An age private key anywhere on the command line (or where a backend is named)
    is refused before the command line is even parsed, and never shown: a message naming the
    file, site or backend it was taken for would print it, and so would a CI log."""
    from onenet_apply.private_keys import ON_THE_COMMAND_LINE, holds_private_key

    if any(holds_private_key(arg) for arg in sys.argv[1:]):
        raise click.ClickException(ON_THE_COMMAND_LINE)
    for name in _PLACES:
        if holds_private_key(os.environ.get(name, "")):
            raise click.ClickException(
                f"${name} holds a private key (AGE-SECRET-KEY-...) where a backend or a "
                "store is named: it is shown wherever those are; take it out, and make a "
                "new key pair if this one was shared"
            )


def main() -> None:
    """Run the command line: click's usage errors exit 1 (2 means 'changes found'),
    Ctrl-C exits 130 and a closed stdout exits quietly, never with a traceback."""
    try:
        try:
            _refuse_private_keys()
            code = cli.main(standalone_mode=False, complete_var=COMPLETE_VAR)
        finally:
            sys.stdout.flush()  # a closed pipe fails here, inside the guard, not at exit
    except click.exceptions.Abort as e:
        if isinstance(e.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            interrupted()
        click.echo("Aborted.", err=True)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        interrupted()
    except click.ClickException as e:
        e.show()
        code = EXIT_ERROR
    except BackendError as e:  # expected: refused, locked, unreachable, corrupt ...
        click.echo(f"Error: {e}", err=True)
        code = EXIT_ERROR
    except BrokenPipeError:
        stdout_closed()
    sys.exit(code or 0)
