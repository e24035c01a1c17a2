"""'Did you mean ...?' suggestions for misspelt keys, ids and catalogue values."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close enough."""
    import difflib  # only a file with a mistake needs it: a valid one never loads it

    pool = candidates if isinstance(candidates, list | tuple) else list(candidates)
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        match = lowered.get(word.lower())
        matches = [match] if match else []
    return f"did you mean `{matches[0]}`?" if matches else None
