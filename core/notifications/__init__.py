"""Notifications: what happened to a user (follows, favorites, comments, new articles)."""
