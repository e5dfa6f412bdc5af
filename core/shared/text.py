"""Rules every stored text obeys."""

from __future__ import annotations

import unicodedata

from core.shared.errors import InvalidInput


def reject_nul(value: str, field: str) -> str:
    """NUL cannot be stored in a Postgres text column (and is never meaningful in ours):
    refuse it as bad input rather than let the database fail the request."""
    if "\x00" in value:
        raise InvalidInput("must not contain NUL characters", field=field)
    return value


def caseless_key(text: str) -> str:
    """The form two texts are compared in when case and Unicode compatibility variants must
    not matter: NFKC, case folding, NFKC again (Unicode's NFKC_Casefold, without its removal
    of default-ignorable characters). "Admin", "ADMIN" and fullwidth "ADMIN" (U+FF21...) all
    give "admin". Unicode's stability policies keep it stable for assigned characters across
    versions, so it may be stored and looked up later."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
