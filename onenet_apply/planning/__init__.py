"""From spec and state to an ordered plan: diff, swaps, ordering, gates, and its renderings."""
