"""Outbound HTTP: the one client that calls user-supplied URLs (webhooks)."""
