"""Sending the outbox: claims under leases, send workers, recorded results, retries, transports."""
