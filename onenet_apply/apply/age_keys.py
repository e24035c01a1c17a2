"""age keys: the public keys credentials are encrypted to, and the identities that read them.

Recipients are age X25519 public keys (`age1...`), given one by one or in a file
read the way `age -R` reads one: a key a line, blank lines and `#` comments
skipped. Identities come from a file as `age-keygen` writes it. A private key is
never repeated in an error, wherever it was put by mistake. Loaded only when a
command encrypts or decrypts, so other commands never load pyrage.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence

import pyrage
from pyrage import x25519

from onenet_apply.private_keys import NOT_A_FILE_NAME, holds_private_key

READ_LIMIT = 1 << 20  # bytes of a recipients or identity file: keys are short
ENV_VAR = "ONENET_CREDENTIALS_RECIPIENTS"
_SEPARATORS = re.compile(r"[\s,]+")
_PRIVATE = (
    "this is a private key (AGE-SECRET-KEY-...), which belongs with the people who "
    "read the file, never here: give its public key (age1..., `age-keygen -y KEYFILE` "
    "prints it), and make a new key pair if this one was shared"
)


class AgeKeyError(Exception):
    """A key or an encrypted file that cannot be used; the message says where and why."""


def recipient(text: str, where: str) -> x25519.Recipient:
    """The age public key `text`; `where` names its place for an error."""
    key = text.strip()
    if holds_private_key(key):
        raise AgeKeyError(f"{where}: {_PRIVATE}")
    shown = key if len(key) <= 70 else key[:20] + "..."
    if not key.startswith("age1"):
        raise AgeKeyError(f"{where}: not an age public key (age1...): {shown!r}")
    try:
        return x25519.Recipient.from_str(key)
    except pyrage.RecipientError as e:
        raise AgeKeyError(f"{where}: not a valid age public key ({e}): {shown!r}") from None


def recipients(keys: Iterable[str], files: Iterable[str], environment: str | None) -> list:
    """Every recipient of the options (keys, then files), or else of the environment."""
    found = [recipient(k, "--credentials-recipient") for k in keys]
    for path in files:
        found.extend(_recipients_in_file(path))
    if not found and environment is not None and environment.strip():
        found = [recipient(k, f"${ENV_VAR}") for k in _SEPARATORS.split(environment.strip())]
    return list({str(r): r for r in found}.values())  # each key once


def _recipients_in_file(path: str) -> list:
    found = []
    for number, column, line in _key_lines(path):
        found.append(recipient(line, f"{path}:{number}:{column}"))
    if not found:
        raise AgeKeyError(f"{path}: holds no recipient (one age1... public key a line)")
    return found


def identities(path: str) -> list:
    """The identities in `path` (`-`: standard input), as age-keygen writes them."""
    found = []
    for number, column, line in _key_lines(path):
        where = f"{path}:{number}:{column}"
        if line.startswith("age1"):
            raise AgeKeyError(
                f"{where}: this is a public key; give the file age-keygen wrote, "
                "which holds the private key (AGE-SECRET-KEY-1...)"
            )
        try:
            found.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise AgeKeyError(
                f"{where}: not an age identity (AGE-SECRET-KEY-1..., as age-keygen writes it)"
            ) from None
    if not found:
        raise AgeKeyError(f"{path}: holds no identity (AGE-SECRET-KEY-1...)")
    return found


def _key_lines(path: str) -> list[tuple[int, int, str]]:
    """(line number, column, text) of each line that is not blank or a comment."""
    if holds_private_key(path):  # a key given where its file's name belongs
        raise AgeKeyError(NOT_A_FILE_NAME)
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", sys.stdin)
            data = stream.read(READ_LIMIT + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(READ_LIMIT + 1)
    except OSError as e:
        raise AgeKeyError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > READ_LIMIT:
        raise AgeKeyError(f"{path}: longer than {READ_LIMIT} bytes; a key file is far shorter")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise AgeKeyError(f"{path}: not UTF-8 text") from None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append((number, len(line) - len(line.lstrip()) + 1, stripped))
    return lines


def encrypt(data: bytes, to: Sequence[x25519.Recipient]) -> bytes:
    """An ordinary age file (binary): `age -d -i KEYFILE` reads it."""
    return pyrage.encrypt(data, list(to))


def decrypt(data: bytes, keys: Sequence[x25519.Identity], name: str, keyfile: str) -> bytes:
    try:
        return pyrage.decrypt(data, list(keys))
    except pyrage.DecryptError as e:
        if "no matching keys" in str(e).lower():
            raise AgeKeyError(
                f"{name}: cannot decrypt: it was not encrypted to the identity in {keyfile}"
            ) from None
        raise AgeKeyError(
            f"{name}: cannot decrypt: the file is damaged or cut short ({e})"
        ) from None
