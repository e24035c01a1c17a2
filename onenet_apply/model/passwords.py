"""Desk phone passwords: the portal's rules, generation, and salted hashes.

Portal rules: at least 8 characters, at least two of upper case, lower case,
digits and special characters, no more than two identical characters in a row,
no white space. The tool adds two bounds of its own, so a stray input can never
become a password: at most 128 characters, and no control, format or unassigned
characters (NUL, escape sequences, zero-width and bidi marks).

Generated passwords use only specials that no spreadsheet treats specially
(`GENERATED_SPECIALS`: no = + - @ , ; " ' or white space), so the credentials
CSV can hold them exactly, with no guard character (see credentials.py).

Generated passwords carry ~95 bits of entropy, so a salted SHA-256 protects them
fully and costs microseconds (the sandbox issues thousands per apply). Chosen
passwords ("User Set Password") can be weak, so they get scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import string
import unicodedata

SPECIALS = "!#$%&*+-./:;<=>?@^_~"
GENERATED_SPECIALS = "!#$%&*./:<>?^_~"  # SPECIALS without = + - @ ; (formula starts, delimiter)
MAX_LENGTH = 128
_ALPHABET = string.ascii_letters + string.digits + GENERATED_SPECIALS
_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SPECIALS)
_GENERATED_CLASSES = (*_CLASSES[:3], GENERATED_SPECIALS)
GENERATED_LENGTH = 16
_DRAW = 10 * GENERATED_LENGTH  # random bytes a draw: candidates for several passwords
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_LIMIT = 256 - 256 % len(_ALPHABET)  # bytes at or above this would bias the choice
_UNUSABLE = bytes(range(_LIMIT, 256))
_TO_ALPHABET = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))
_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)


def password_problems(password: str) -> list[str]:
    """What is wrong with `password` under the portal's rules (empty: nothing)."""
    problems = []
    if len(password) < 8:
        problems.append("it must have at least 8 characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"it must have at most {MAX_LENGTH} characters")
    if any(unicodedata.category(c).startswith("C") for c in password):
        problems.append("it must not contain control, format or unassigned characters")
    if any(c.isspace() for c in password):
        problems.append("it must not contain white space")
    kinds = sum(any(c in cls for c in password) for cls in _CLASSES)
    others = any(not any(c in cls for cls in _CLASSES) and not c.isspace() for c in password)
    if kinds + others < 2:
        problems.append(
            "it must mix at least two of upper case, lower case, digits and special characters"
        )
    if _TRIPLE.search(password):
        problems.append("it must not repeat a character more than twice in a row")
    return problems


def generate_password() -> str:
    """A random password meeting the rules, from letters, digits and GENERATED_SPECIALS.

    One draw of `os.urandom` (the CSPRNG behind `secrets`, called directly: a site
    issues thousands), filtered and mapped by `bytes.translate`: unbiased (bytes at
    or above `_LIMIT` are dropped) and about 50x faster than a `secrets.choice` per
    character. About four candidates in ten miss a rule; one draw holds several
    candidates of their own bytes, tried in turn, so a password nearly always takes
    one draw (each a system call of a few microseconds)."""
    while True:
        drawn = os.urandom(_DRAW).translate(None, _UNUSABLE)
        text = drawn.translate(_TO_ALPHABET).decode("ascii")
        for start in range(0, len(text) - GENERATED_LENGTH + 1, GENERATED_LENGTH):
            password = text[start : start + GENERATED_LENGTH]
            if password[0].isalpha() and _all_classes(password) and not _TRIPLE.search(password):
                return password


def _all_classes(password: str) -> bool:
    used = set(password)
    return all(not used.isdisjoint(cls) for cls in _GENERATED_CLASSES)


def hash_password(password: str, *, chosen: bool = False) -> str:
    salt = os.urandom(16)
    if chosen:
        digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
        return f"scrypt${salt.hex()}${digest.hex()}"
    digest = hashlib.sha256(salt + password.encode()).digest()
    return f"sha256${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    scheme, salt_hex, digest_hex = stored.split("$")
    salt = bytes.fromhex(salt_hex)
    if scheme == "scrypt":
        digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    elif scheme == "sha256":
        digest = hashlib.sha256(salt + password.encode()).digest()
    else:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))
