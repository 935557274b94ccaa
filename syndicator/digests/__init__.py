"""Digests: what each subscriber gets, rendered from templates/email into message bytes."""
