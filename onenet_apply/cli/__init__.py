"""The `onenet` command line: one module per command (group); `main` runs it."""

from onenet_apply.cli.main import cli, main

__all__ = ["cli", "main"]
