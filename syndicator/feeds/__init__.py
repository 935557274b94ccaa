"""Feeds: Atom, RSS and JSON Feed documents, per category and overall, written atomically."""
