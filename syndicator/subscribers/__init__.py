"""Subscribers: validation, storage, the consent history, CSV import and export."""
