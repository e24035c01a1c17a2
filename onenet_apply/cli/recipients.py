"""`--credentials-recipient`: the credentials file encrypted to age public keys.

Shared by the commands that issue login details (`apply`, `credentials reset`).
The keys are read and checked when the command starts, before anything is
applied; pyrage is loaded only when there are some.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from onenet_apply.apply.credentials import CredentialsSink

ENV_VAR = "ONENET_CREDENTIALS_RECIPIENTS"


def recipient_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--credentials-recipients-file",
        "recipient_files",
        multiple=True,
        metavar="FILE",
        help="Encrypt to the age public keys in FILE (one a line, # comments), as age -R "
        "reads it. Repeatable.",
    )(command)
    return click.option(
        "--credentials-recipient",
        "recipient_keys",
        multiple=True,
        metavar="AGE_KEY",
        help="Encrypt the credentials file to this age public key (age1...); it is then "
        f"CSV.age. Repeatable. Default: the keys in ${ENV_VAR}, if set.",
    )(command)


def read_recipients(
    keys: tuple[str, ...], files: tuple[str, ...], credentials_out: str | None
) -> list[object]:
    """The recipients asked for (none: a plain CSV), checked; one clear line if not."""
    environment = os.environ.get(ENV_VAR)
    if not keys and not files and not (environment and environment.strip()):
        if credentials_out is not None and credentials_out.endswith(".age"):
            raise click.ClickException(
                f"--credentials-out {credentials_out} names an encrypted file: give "
                "--credentials-recipient (or --credentials-recipients-file)"
            )
        return []
    from onenet_apply.apply.age_keys import AgeKeyError, recipients

    if credentials_out is not None and not credentials_out.endswith(".age"):
        raise click.ClickException(
            f"--credentials-out {credentials_out}: an encrypted credentials file's name "
            "ends in .age (e.g. credentials.csv.age), so nobody takes it for plain text"
        )
    try:
        return recipients(keys, files, environment)
    except AgeKeyError as e:
        raise click.ClickException(str(e)) from None


def open_sink(
    site: str | None, credentials_out: str | None, recipients: list[object]
) -> CredentialsSink:
    """The credentials sink: encrypted when there are recipients (`site` None: of
    several sites)."""
    from onenet_apply.apply.credentials import CredentialsFileError, CredentialsSink
    from onenet_apply.cli.apply_report import opened

    try:
        if not recipients:
            return opened(CredentialsSink(site, credentials_out))
        from onenet_apply.apply.sealed_credentials import SealedCredentialsSink

        return opened(SealedCredentialsSink(site, recipients, credentials_out))
    except CredentialsFileError as e:
        raise click.ClickException(str(e)) from None
