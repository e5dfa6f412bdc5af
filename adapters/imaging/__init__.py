"""Image decoding and re-encoding (Pillow)."""
