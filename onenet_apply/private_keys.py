"""What an age private key looks like, so that none is ever repeated in a message.

Kept apart from apply/age_keys.py, which loads pyrage, and importing nothing: every
command refuses a key anywhere on its command line first (cli/main.py), so no option
needs a check of its own; age_keys.py checks the names and keys it is given too,
for callers other than the command line.
"""

from __future__ import annotations

SECRET_PREFIX = "AGE-SECRET-KEY-"
NOT_A_FILE_NAME = (
    "expected the name of a file, not a private key (AGE-SECRET-KEY-...): a key on the "
    "command line is seen by other users and kept in shell history; keep it in a file "
    "only you can read (or give it on standard input, -), and make a new key pair if "
    "this one was shared"
)

ON_THE_COMMAND_LINE = (
    "a private key (AGE-SECRET-KEY-...) is on the command line, where other users and "
    "shell history see it: a recipient is its public key (age1..., `age-keygen -y "
    "KEYFILE` prints it), an identity the file that holds it (or -, standard input); "
    "make a new key pair if this one was shared"
)


def holds_private_key(text: str) -> bool:
    """Whether `text` holds an age private key anywhere (any case), so must not be shown."""
    return SECRET_PREFIX in text.upper()
