"""Rules every stored text obeys."""

from __future__ import annotations

from core.shared.errors import InvalidInput


def reject_nul(value: str, field: str) -> str:
    """NUL cannot be stored in a Postgres text column (and is never meaningful in ours):
    refuse it as bad input rather than let the database fail the request."""
    if "\x00" in value:
        raise InvalidInput("must not contain NUL characters", field=field)
    return value
