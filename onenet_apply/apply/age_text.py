"""What an age private key looks like, so that none is ever repeated in a message.

Kept apart from age_keys.py, which loads pyrage: the commands check every file
name they would print (a key pasted where a file belongs) without loading it.
"""

from __future__ import annotations

SECRET_PREFIX = "AGE-SECRET-KEY-"
NOT_A_FILE_NAME = (
    "expected the name of a file, not a private key (AGE-SECRET-KEY-...): a key on the "
    "command line is seen by other users and kept in shell history; keep it in a file "
    "only you can read (or give it on standard input, -), and make a new key pair if "
    "this one was shared"
)


def holds_private_key(text: str) -> bool:
    """Whether `text` holds an age private key anywhere (any case), so must not be shown."""
    return SECRET_PREFIX in text.upper()
