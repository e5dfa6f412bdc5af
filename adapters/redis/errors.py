"""What every Redis adapter shares about failures."""

from __future__ import annotations

from collections.abc import Callable

# Told of every Redis failure with the operation's name; the entrypoints count them (metrics),
# since adapters never import the entrypoints.
ErrorListener = Callable[[str, BaseException], None]
