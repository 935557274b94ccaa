"""Subscribers: rules, self-service, operator verbs, consent history and personal links."""
