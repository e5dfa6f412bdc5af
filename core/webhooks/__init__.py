"""Webhooks: subscriptions to Conduit's events, delivered signed, retried, given up on visibly."""
