"""Site files in: loading with positions, the schema, validation, the spec; and out (import)."""
