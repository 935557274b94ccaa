"""syndicator: a government portal's bulletins as feeds and email digests."""

__version__ = "0.1.0"
