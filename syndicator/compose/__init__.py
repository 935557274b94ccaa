"""Composing mail: every message (digests, confirmations, notices) rendered into bytes."""
