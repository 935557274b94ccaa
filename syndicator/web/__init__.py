"""HTTP: the daemon's routes (feeds, subscriber pages, digests, health, metrics)."""
