"""Ingest: the portal's rows become cleaned bulletins in our state database."""
