"""Adapters over the local filesystem."""
