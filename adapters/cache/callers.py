"""ProcessCallerCache: signed-in callers' accounts kept in this process, for the caller lookup."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection

from core.auth.ports import CallerCache
from core.shared.fifo import remember
from core.shared.ids import UserId
from core.users.model import User

Echo = Callable[[Collection[UserId]], Awaitable[None]]


class ProcessCallerCache(CallerCache):
    """A bounded map of user id -> User with a time to live, in one process.

    Correctness does not rest on the time to live: every change of an account is `forget`-ed
    in the process that made it (after its commit) and `drop`-ped in every other process by
    whoever hears the database's change signal (adapters.sql.callers). The cache answers only
    while it `listening`: a cache whose signal is lost is `suspend`-ed (emptied, bypassed)
    until `resume`.

    A generation counter closes the fill race: a lookup takes `ticket()` before it reads the
    database, and `put` stores only if no `forget`, `drop`, `suspend` or `resume` happened
    since. Any of them moves the generation on (one counter for all users: changes of access
    are rare, a voided fill costs one more lookup later).
    """

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        ttl_s: float = 10.0,
        listening: bool = True,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_miss: Callable[[], None] = lambda: None,
        on_listening: Callable[[bool], None] = lambda _listening: None,
    ) -> None:
        """`on_miss` is called for each `get` the cache cannot answer (the caller is then read
        from the database), `on_listening` when the cache starts or stops answering."""
        self._max_entries, self._ttl_s, self._clock = max_entries, ttl_s, clock
        self._on_miss, self._on_listening = on_miss, on_listening
        self._enabled = enabled  # False: never answers, whatever the signal does
        self._listening = listening and enabled
        self._entries: dict[UserId, tuple[float, User]] = {}
        self._generation = 0
        self._echo: Echo | None = None
        on_listening(self._listening)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def listening(self) -> bool:
        return self._listening

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, user_id: UserId) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None:
            self._on_miss()
            return None
        expires, user = entry
        if self._clock() >= expires:
            del self._entries[user_id]
            self._on_miss()
            return None
        return user

    def ticket(self) -> int | None:
        return self._generation if self._listening else None

    def put(self, user: User, ticket: int) -> None:
        if ticket != self._generation or not self._listening:
            return  # a change (or a lost signal) since the ticket: this row may be stale
        entries = self._entries
        entries.pop(user.id, None)  # re-inserted last: the oldest entry is evicted first
        remember(entries, user.id, (self._clock() + self._ttl_s, user), self._max_entries)

    async def forget(self, user_ids: Collection[UserId]) -> None:
        self.drop(user_ids)
        echo = self._echo
        if echo is not None and self._listening:
            await echo(user_ids)

    def drop(self, user_ids: Collection[UserId]) -> None:
        """Forget these users now (the change signal's callback; synchronous)."""
        self._generation += 1
        for user_id in user_ids:
            self._entries.pop(user_id, None)

    def suspend(self) -> None:
        """The change signal is lost: empty the cache and answer nothing until `resume`."""
        self._listening = False
        self._generation += 1
        self._entries.clear()
        self._on_listening(False)

    def resume(self) -> None:
        """The change signal is heard again (from now on): start afresh."""
        self._generation += 1
        self._entries.clear()
        self._listening = self._enabled
        self._on_listening(self._listening)

    def echo_with(self, echo: Echo | None) -> None:
        """What `forget` also awaits: the signal's confirmation that it went out."""
        self._echo = echo
