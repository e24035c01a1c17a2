"""Exit codes, one meaning each (README, "Exit codes"): CI tells them apart."""

from __future__ import annotations

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PENDING, EXIT_BLOCKED = 0, 1, 2, 3, 4
BLOCKED_ONLY = "Only blocked items remain: a human must act on them first (see their reasons)."
