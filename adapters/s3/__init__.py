"""Adapters over an S3-compatible object store."""
