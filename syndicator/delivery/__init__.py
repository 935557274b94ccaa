"""Delivery: digest runs, the outbox, transports (SMTP, files), retries, bounces, recovery."""
