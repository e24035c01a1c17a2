"""Saved plans: the reviewed document, its embedded site, and whether it still holds."""
