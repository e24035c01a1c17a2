"""onenet-apply: keep One Net Business sites in YAML, validate, plan and apply them."""

__version__ = "0.1.0"
