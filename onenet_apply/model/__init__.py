"""The shared vocabulary: the desired site (spec), the current one (state), plans, fields, catalogue, numbers, passwords, digests."""
