"""'Did you mean ...?' suggestions for misspelt keys, ids and catalogue values."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, case ignored (`Yealink-T54W` finds
    `yealink-t54w`), or None when nothing is close enough."""
    import difflib  # only a file with a mistake needs it: a valid one never loads it

    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    match = folded.get(word.casefold())
    if match is None:
        close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
        match = folded[close[0]] if close else None
    return f"did you mean `{match}`?" if match is not None else None
