"""The embedded demo: a small portal database and three subscribers (idempotent)."""
