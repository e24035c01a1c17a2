"""Number pools written with dashes inside the numbers, and hashes of an unknown kind."""

from __future__ import annotations

from pathlib import Path

from onenet_apply.model.passwords import hash_password, verify_password


def test_a_pool_range_of_numbers_written_with_dashes(onenet, tmp_path: Path) -> None:
    """The range's own dash is the one that splits two valid numbers."""
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: 1\n"
        'site: {id: s, name: S, country: DE, number_pool: ["030-12345600-030-12345699"]}\n'
        "users:\n"
        '  anna: {first_name: A, last_name: B, number: "030 12345601", package: standard}\n'
        '  ben: {first_name: B, last_name: C, number: "030 12345701", package: standard}\n'
    )
    result = onenet("validate", str(site))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{site}:5:46: users.ben.number: +493012345701 is not in site.number_pool (add it to "
        "the pool or correct the number)",
        "1 error in 1 of 1 file",
    ]


def test_a_stored_hash_of_an_unknown_scheme_never_verifies() -> None:
    stored = hash_password("Abcdef12!x")
    _, salt, digest = stored.split("$")
    assert verify_password("Abcdef12!x", stored)
    assert not verify_password("Abcdef12!x", f"md5${salt}${digest}")
