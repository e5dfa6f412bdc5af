"""Storage backends: one class per technology, picked from DATABASE_URL's scheme (registry.py)."""
