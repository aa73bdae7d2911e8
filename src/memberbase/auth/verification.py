"""Slow secret checks (argon2id), bounded so that wrong passwords cannot take the service down.

Each check holds a thread and 64 MiB (argon2id's memory cost) for a tenth of a second or
more. Unbounded, 200 concurrent wrong passwords ran forty at once (the thread pool's size),
took the process from 378 MiB to 3.5 GiB and, since each held a pooled database connection
meanwhile, starved every other request of connections. Here:

- at most `running` checks run at once in this process and `queued` more wait their turn;
  a check beyond both is refused at once (`Busy`: the caller answers 429 with Retry-After),
  so memory and threads stay bounded whatever arrives;
- before a check runs, its login takes one of its failed-attempt slots (login_attempts.py);
  a wrong secret keeps it, a right one gives it back: concurrent guesses can never run more
  checks than the failed-login limit allows (`LockedOut`: 429 with Retry-After);
- the same login and secret checked by several requests at once is checked once and they
  share its answer (a burst from a till whose login is not yet memoised, or one wrong
  password repeated, costs one check and one slot);
- callers hold no database connection while they wait or check (see auth/basic.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable

import anyio
import anyio.to_thread

from memberbase.auth.passwords import dummy_hash
from memberbase.login_attempts import LoginAttempts
from memberbase.rate_limiter import Verdict

# (stored hash, presented secret) -> whether they match; runs in a worker thread.
Verify = Callable[[str, str], bool]


class Busy(Exception):
    """More slow checks are running and waiting than this process admits: come back later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class LockedOut(Exception):
    """The login used up its failed attempts for this window: no check is run."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"retry after {verdict.reset_after} s")
        self.verdict = verdict


class HashGate:
    """At most `running` slow checks at once, `queued` more waiting; beyond that, Busy."""

    def __init__(self, running: int, queued: int) -> None:
        self._threads = anyio.CapacityLimiter(running)
        self._running = running
        self._admitted = running + queued
        self._inside = 0  # running or waiting
        self._seconds = 0.1  # a moving average of one check's duration, for Retry-After

    @property
    def inside(self) -> int:
        return self._inside

    def retry_after(self) -> int:
        return max(1, min(60, math.ceil(self._inside * self._seconds / self._running)))

    async def run(self, verify: Verify, stored_hash: str | None, secret: str) -> bool:
        """`verify(stored_hash, secret)` in a worker thread; None: against the dummy hash."""
        if self._inside >= self._admitted:
            raise Busy(self.retry_after())
        self._inside += 1
        try:
            return await anyio.to_thread.run_sync(
                self._timed, verify, stored_hash, secret, limiter=self._threads
            )
        finally:
            self._inside -= 1

    def _timed(self, verify: Verify, stored_hash: str | None, secret: str) -> bool:
        started = time.perf_counter()
        # The dummy hash is made on first need, here in the thread: making it is itself slow.
        ok = verify(stored_hash if stored_hash is not None else dummy_hash(), secret)
        self._seconds = 0.8 * self._seconds + 0.2 * (time.perf_counter() - started)
        return ok


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class SlowChecks:
    """Slow checks of one kind of login (tills, or API clients) through a shared gate.

    `prefix` names the kind in the failed-login counters ("" for tills, "client:" for API
    clients); `allowed_failures` per login and window.
    """

    def __init__(self, gate: HashGate, attempts: LoginAttempts, allowed_failures: int, prefix: str) -> None:
        self._gate = gate
        self._attempts = attempts
        self._allowed = allowed_failures
        self._prefix = prefix
        # (login, stored hash, SHA-256 of the secret) -> the check in flight; gone when done.
        self._flights: dict[tuple[str, str, bytes], asyncio.Future[bool]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    async def check(self, login: str, stored_hash: str | None, secret: str, verify: Verify) -> bool:
        """Whether `secret` matches `stored_hash` (None: an unknown login, checked against the
        dummy hash so that it costs what a wrong secret costs). Raises Busy and LockedOut."""
        key = (login, stored_hash or "", _digest(secret))
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._counted(login, stored_hash, secret, verify))
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        # Shielded: a caller that goes away does not cancel the check others wait for.
        return await asyncio.shield(flight)

    async def _counted(self, login: str, stored_hash: str | None, secret: str, verify: Verify) -> bool:
        counter = self._prefix + login
        verdict = await self._attempts.take(counter, self._allowed)
        if not verdict.allowed:
            raise LockedOut(verdict)
        failed = False
        try:
            failed = not await self._gate.run(verify, stored_hash, secret)
        finally:
            # A wrong secret keeps the slot: that is the failure recorded. A right one gives
            # it back, and so does a check that never ran (Busy) or broke.
            if not failed:
                await self._attempts.give_back(counter)
        return not failed

    def _landed(self, key: tuple[str, str, bytes], flight: asyncio.Future[bool]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # retrieved, so that Busy with no one left waiting is not logged
