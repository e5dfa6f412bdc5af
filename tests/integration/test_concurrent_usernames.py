"""Names alike registered at once: one account, the others a 422, never a 500 (issue 11,
point 8). Concurrent sign-ups all pass the look-alike pre-check and race to commit; the
unique indexes on users.username_key and users.username_skeleton decide, and their
violation is mapped to "username has already been taken" on both dialects."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

ROUNDS = 4


@pytest.mark.parametrize(
    "names",
    [
        ["admin", "Admin", "ADMIN", "aDMIN"],  # one key
        ["jake1", "jakel", "JAKEl", "jake1"],  # one skeleton: "1" and "l" look alike
    ],
    ids=["same-key", "same-skeleton"],
)
async def test_names_alike_registered_at_once_make_one_account(
    sql_client: httpx2.AsyncClient, names: list[str]
) -> None:
    attempts = [(name, f"racer{n}@example.com") for n, name in enumerate(names * ROUNDS)]

    responses = await asyncio.gather(
        *(
            sql_client.post(
                "/api/users",
                json={"user": {"username": name, "email": email, "password": "p" * 8}},
            )
            for name, email in attempts
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * (len(attempts) - 1), [r.text for r in responses][:3]
    for response in responses:
        if response.status_code == 422:
            assert set(response.json()["errors"]) == {"username"}, response.text
    winner = next(r.json()["user"]["username"] for r in responses if r.status_code == 201)
    for name in set(names):
        profile = await sql_client.get(f"/api/profiles/{name}")
        if name.lower() == winner.lower():
            assert profile.json()["profile"]["username"] == winner
