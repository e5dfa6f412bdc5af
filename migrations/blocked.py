"""What a migration raises when it cannot go on until an operator acts."""

from __future__ import annotations


class MigrationBlocked(Exception):
    """The data stops a migration; the message (several lines) says which rows and what to
    run. Raised before the revision changes anything, so the schema stays where it was."""
