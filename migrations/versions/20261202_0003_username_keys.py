"""username keys: unique regardless of case, Unicode compatibility forms and look-alikes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:40:00.000000

Adds users.username_key (NFKC, case folded: what usernames are looked up by) and
users.username_skeleton (Unicode TR39 confusable skeleton), each unique. Existing names that
would share either stop the upgrade before it changes anything: the message lists them and
the `conduit users rename` command that gives each newer account a suffixed name.

The two functions below are this revision's own copies of core.users.model.username_key and
username_skeleton (a migration imports nothing of the application: it must keep meaning what
it meant when it was written); tests/integration/test_username_migration.py holds them equal.
"""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Sequence
from typing import Any

import disarm
import sqlalchemy as sa
from alembic import op

from migrations.blocked import MigrationBlocked

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USERNAME_MAX = 40
RENAME_COMMAND = "conduit users rename"


def username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def username_skeleton(username: str) -> str:
    return disarm.skeleton_key(username, digit_policy="tr39")


_users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("username", sa.String(40)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("username_key", sa.Text()),
    sa.column("username_skeleton", sa.Text()),
)


def _clashes(rows: Sequence[Any]) -> list[list[Any]]:
    """Groups of rows (oldest first) whose usernames share a key or a skeleton, directly or
    through another member (union-find over both)."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for keyed in (username_key, username_skeleton):
        first: dict[str, int] = {}
        for i, row in enumerate(rows):
            j = first.setdefault(keyed(row.username), i)
            parent[root(i)] = root(j)
    groups: dict[int, list[Any]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(root(i), []).append(row)
    return [
        sorted(group, key=lambda r: (r.created_at, str(r.id)))
        for group in groups.values()
        if len(group) > 1
    ]


def _suggestions(groups: list[list[Any]], rows: Sequence[Any]) -> dict[Any, str]:
    """A free name for each newer member of each group: the oldest one's name, suffixed."""
    used = {f(r.username) for r in rows for f in (username_key, username_skeleton)}
    names: dict[Any, str] = {}
    for group in groups:
        base = group[0].username
        if disarm.is_mixed_script(base):
            base = "user"  # a suffix would not make it a valid name today
        n = 2
        for row in group[1:]:
            while True:
                suffix = f"-{n}"
                candidate = base[: USERNAME_MAX - len(suffix)] + suffix
                n += 1
                if not {username_key(candidate), username_skeleton(candidate)} & used:
                    break
            used |= {username_key(candidate), username_skeleton(candidate)}
            names[row.id] = candidate
    return names


def _blocked_message(groups: list[list[Any]], names: dict[Any, str]) -> str:
    lines = [
        "revision 0003 makes usernames unique regardless of case, Unicode compatibility "
        "forms and look-alike letters, and these existing accounts would clash:"
    ]
    for group in groups:
        oldest = group[0]
        lines.append(f"  {oldest.username!r} (id {oldest.id}, the oldest) keeps its name;")
        for row in group[1:]:
            command = f"{RENAME_COMMAND} {shlex.quote(row.username)} {shlex.quote(names[row.id])}"
            lines.append(f"    {row.username!r} (id {row.id}):  {command}")
    lines.append(
        "Rename the newer accounts (each keeps working: same email and password, the new "
        "username), or choose other new names, then run `conduit migrate` again. "
        "Nothing was changed."
    )
    return "\n".join(lines)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_users.c.id, _users.c.username, _users.c.created_at)).all()
    groups = _clashes(rows)
    if groups:
        raise MigrationBlocked(_blocked_message(groups, _suggestions(groups, rows)))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("username_skeleton", sa.Text(), nullable=True))
    if rows:
        connection.execute(
            _users.update()
            .where(_users.c.id == sa.bindparam("row_id"))
            .values(username_key=sa.bindparam("key"), username_skeleton=sa.bindparam("skeleton")),
            [
                {
                    "row_id": row.id,
                    "key": username_key(row.username),
                    "skeleton": username_skeleton(row.username),
                }
                for row in rows
            ],
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("username_skeleton", existing_type=sa.Text(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_users_username_skeleton"), ["username_skeleton"]
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_skeleton"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("username_skeleton")
        batch_op.drop_column("username_key")
