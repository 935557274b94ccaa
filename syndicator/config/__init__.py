"""Configuration: the settings model, where settings come from, and database URLs."""
