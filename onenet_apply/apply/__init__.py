"""Carrying a plan out: the applier, the credentials sink and the git guard."""
