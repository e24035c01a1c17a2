"""`onenet credentials reset`: new desk phone login details, or a chosen password."""

from __future__ import annotations

import sys

import click

from onenet_apply.backends import open_backend
from onenet_apply.cli.apply_report import tells_where_on_interrupt
from onenet_apply.cli.completion import reset_user_ids
from onenet_apply.cli.confirm import confirm, yes_option
from onenet_apply.cli.help import WholeHelpGroup
from onenet_apply.cli.option_types import OUT_FILE, SECONDS
from onenet_apply.cli.options import backend_option, platform_id_option, site_option, state_option
from onenet_apply.cli.recipients import open_sink, read_recipients, recipient_options
from onenet_apply.cli.site_ref import platform_id_of, site_file_read

READ_LIMIT = 4096  # bytes of standard input read at most: a password is far shorter


@click.group(cls=WholeHelpGroup)
def credentials() -> None:
    """Desk phone login details: they are only ever written to a credentials CSV."""


@credentials.command()
@site_option
@platform_id_option
@click.argument("users", nargs=-1, metavar="[USER_ID...]", shell_complete=reset_user_ids)
@click.option("--all", "everyone", is_flag=True, help="Every user with a desk phone.")
@yes_option("With --all, reset without asking (needed without a terminal).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Set one chosen password, read from standard input (User Set Password).",
)
@click.option(
    "--credentials-out",
    type=OUT_FILE,
    metavar="CSV_FILE",
    help="Write the login details here (must not exist; .csv.age, encrypted to recipients).",
)
@recipient_options
@click.option(
    "--lock-timeout",
    type=SECONDS,
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for an apply of the site (or another reset) to finish.",
)
@backend_option
@state_option
@tells_where_on_interrupt
def reset(
    site: str,
    platform_id: str | None,
    users: tuple[str, ...],
    everyone: bool,
    yes: bool,
    password_stdin: bool,
    credentials_out: str | None,
    recipient_keys: tuple[str, ...],
    recipient_files: tuple[str, ...],
    lock_timeout: float,
    backend: str | None,
    state: str | None,
) -> None:
    """New login details for users (or --all); with --password-stdin, a chosen password."""
    platform_id = platform_id_of(platform_id)  # --site FILE: the file's
    # the stages, loaded when the command runs (see cli/validate.py)
    from onenet_apply.apply.credentials import CredentialsFileError
    from onenet_apply.apply.credentials_reset import COMMAND, reset_credentials
    from onenet_apply.backends.base import address_site
    from onenet_apply.cli.apply_report import stopped_note
    from onenet_apply.cli.state import open_shared_state
    from onenet_apply.store.errors import StoreError

    if bool(users) == everyone:
        raise click.UsageError("name the users (USER_ID...) or give --all")
    if everyone:  # every phone's current login stops working: asked, like an apply
        confirm(
            yes,
            f"Issue new login details to every user with a desk phone on site {site}? "
            "Their phones' current logins stop working.",
            "credentials reset --all",
            "no login details issued",
        )
    recipients = read_recipients(recipient_keys, recipient_files, credentials_out)
    password = _read_password() if password_stdin else None
    sink = open_sink(site, credentials_out, recipients)
    try:
        sink.check_place()  # a reset issues login details: refuse a place git would pick up
    except CredentialsFileError as e:
        raise click.ClickException(str(e)) from None
    platform = open_backend(backend)
    address_site(platform, site, platform_id)
    shared = None
    try:
        shared = open_shared_state(
            state, platform, kind="credentials-reset", command=COMMAND, site_id=site
        )
        along = {"locks": shared.locks, "ledger": shared.ledger} if shared else {}
        named_file = site_file_read()  # its site.unmanaged, else the kept settings'
        report = reset_credentials(
            platform,
            site,
            users,
            sink,
            password=password,
            lock_timeout=lock_timeout,
            unmanaged=named_file.unmanaged if named_file is not None else None,
            **along,
        )
    except CredentialsFileError as e:  # the platform committed nothing it could not record
        raise click.ClickException(
            f"{e}; users whose login details could not be written keep their old ones"
        ) from None
    except StoreError:  # the lock or the history lost midway: what was issued stays
        stopped_note(sink, "Stopped")
        raise
    finally:
        platform.close()
        if shared is not None:
            shared.close()
    event = "set the chosen password for" if password else "issued new login details to"
    count = len(report.done)
    if not count:  # nothing asked for could be done: say why, and fail
        whys = _skipped_in_short(report.skipped)
        raise click.ClickException(
            "no login details issued: "
            + ("; ".join(whys) if whys else f"no user of site {site} has a desk phone")
        )
    for uid, why in report.skipped:
        click.echo(f"skipped {uid}: {why}", err=True)
    click.echo(
        f"{event} {count} user{'s' if count != 1 else ''}"
        + (f"; written to {sink.path}, and nowhere else" if sink.written else "")
    )
    sys.exit(0)


SHOWN_BY_NAME = 5  # users named in one reason; the others counted


def _skipped_in_short(skipped: list[tuple[str, str]]) -> list[str]:
    """Each reason once, with the users it holds back: one line, whatever the site's size."""
    by_reason: dict[str, list[str]] = {}
    for uid, why in skipped:
        by_reason.setdefault(why, []).append(uid)
    parts = []
    for why, users in by_reason.items():
        named = ", ".join(users[:SHOWN_BY_NAME])
        more = len(users) - SHOWN_BY_NAME
        who = f"{named} and {more} more" if more > 0 else named
        parts.append(f"{who} ({why})")
    return parts


# how an age file starts: binary, or armored (`age -a`)
AGE_STARTS = (b"age-encryption.org/", b"-----BEGIN AGE ENCRYPTED FILE-----")
SHOW_LIMIT = 256 << 20  # bytes of a credentials file read at most


@credentials.command()
@click.argument("file", metavar="FILE")
@click.option(
    "--identity",
    "identity",
    metavar="KEYFILE",
    help="The age identity file (as age-keygen writes it; - reads standard input) that "
    "decrypts a .csv.age file. Never the key itself on the command line.",
)
def show(file: str, identity: str | None) -> None:
    """Print a credentials file (.csv, or .csv.age decrypted with --identity) as CSV."""
    try:
        with open(file, "rb") as f:
            data = f.read(SHOW_LIMIT + 1)
    except OSError as e:
        raise click.ClickException(f"cannot read {file}: {e.strerror}") from None
    if len(data) > SHOW_LIMIT:
        raise click.ClickException(
            f"{file}: longer than {SHOW_LIMIT} bytes; not a credentials file"
        )
    if data.lstrip().startswith(AGE_STARTS):
        if identity is None:
            raise click.ClickException(
                f"{file} is encrypted: give --identity KEYFILE, the age identity file of "
                "one of its recipients"
            )
        from onenet_apply.apply.age_keys import AgeKeyError, decrypt, identities

        try:
            data = decrypt(data, identities(identity), file, identity)
        except AgeKeyError as e:
            raise click.ClickException(str(e)) from None
    click.echo(data, nl=False)
    sys.exit(0)


def _read_password() -> str:
    """The first line of standard input, read bounded, checked before anything changes."""
    from onenet_apply.apply.credentials import password_cell_problems
    from onenet_apply.model.passwords import MAX_LENGTH, password_problems

    if sys.stdin is None or sys.stdin.isatty():  # None: standard input is closed
        raise click.UsageError(
            "--password-stdin reads the password from standard input; pipe it in"
        )
    stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes, or text where stdin is replaced
    line = stream.readline(READ_LIMIT + 1)
    if len(line) > READ_LIMIT:
        raise click.ClickException(
            f"the password on standard input is longer than {READ_LIMIT} bytes; "
            f"a password has at most {MAX_LENGTH} characters"
        )
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        raise click.ClickException("the password on standard input is not valid UTF-8") from None
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise click.ClickException("no password on standard input: pipe one line in")
    problems = password_problems(password)
    if problems:
        raise click.ClickException("the password breaks the portal's rules: " + "; ".join(problems))
    problems = password_cell_problems(password)
    if problems:
        raise click.ClickException(
            "the password cannot be written to the credentials CSV exactly: "
            + "; ".join(problems)
            + "; choose another"
        )
    return password
