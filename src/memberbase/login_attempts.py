"""Failed logins per login, in fixed five-minute windows, with the slot taken before the check.

Counting a failure after the slow check let concurrent guesses through: 50 at once were all
checked against a limit of 10, since each read the count before any had added to it. Here a
login takes a slot atomically *before* its check (`take`); a wrong secret keeps it (that is
the recorded failure), a right one gives it back (`give_back`), and so does a check that never
ran (the gate was full). However many guesses arrive together, at most the limit are checked
per window; the rest are refused without one.

Counters live in Redis when a Redis URL is configured (one Lua script per step, so each is
atomic across every process), otherwise in this process, where one event loop makes each step
atomic by running it without an await.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from memberbase.rate_limiter import Verdict

if TYPE_CHECKING:
    import coredis

WINDOW_SECONDS = 300

# KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in ms. -> {taken, count, ms left}
_TAKE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return {0, n, redis.call('PTTL', KEYS[1])}
end
n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {1, n, redis.call('PTTL', KEYS[1])}
"""
# A slot given back within the window it was taken in (an expired window has nothing to return).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
return {}
"""
_COUNT = "return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}"


def _verdict(allowed: bool, limit: int, count: int, ms_left: int) -> Verdict:
    reset_after = max(1, (ms_left + 999) // 1000) if ms_left > 0 else WINDOW_SECONDS
    return Verdict(allowed, limit, max(0, limit - count), reset_after)


class LoginAttempts:
    def __init__(self, pool: coredis.ConnectionPool | None, prefix: str) -> None:
        self._prefix = prefix
        self._redis: coredis.Redis[Any] | None = None
        if pool is not None:
            import coredis  # only with Redis (see rate_limiter.py)

            self._redis = coredis.Redis(connection_pool=pool)
        # login -> (count, when its window ends, monotonic seconds)
        self._local: dict[str, tuple[int, float]] = {}
        self._next_sweep = time.monotonic() + WINDOW_SECONDS

    def _key(self, login: str) -> str:
        return f"{self._prefix}:failed-logins:{login}"

    async def _script(self, script: str, login: str, *args: int) -> list[int]:
        assert self._redis is not None
        found = await self._redis.eval(script, keys=[self._key(login)], args=list(args))
        return [int(x) for x in cast(list[int], found)]

    def _count(self, login: str) -> tuple[int, float]:
        now = time.monotonic()
        if now >= self._next_sweep:  # windows that ended are dropped: memory stays bounded
            self._local = {k: v for k, v in self._local.items() if v[1] > now}
            self._next_sweep = now + WINDOW_SECONDS
        count, ends = self._local.get(login, (0, 0.0))
        return (count, ends) if ends > now else (0, now + WINDOW_SECONDS)

    async def blocked(self, login: str, limit: int) -> Verdict | None:
        """A verdict when `login` has used up its failed attempts in this window, else None."""
        if self._redis is not None:
            count, ms_left = await self._script(_COUNT, login)
        else:
            count, ends = self._count(login)
            ms_left = int((ends - time.monotonic()) * 1000)
        return _verdict(False, limit, count, ms_left) if count >= limit else None

    async def take(self, login: str, limit: int) -> Verdict:
        """Take one of `login`'s attempts before checking it; `allowed` False when none is left."""
        if self._redis is not None:
            taken, count, ms_left = await self._script(_TAKE, login, limit, WINDOW_SECONDS * 1000)
            return _verdict(bool(taken), limit, count, ms_left)
        count, ends = self._count(login)
        ms_left = int((ends - time.monotonic()) * 1000)
        if count >= limit:
            return _verdict(False, limit, count, ms_left)
        self._local[login] = (count + 1, ends)
        return _verdict(True, limit, count + 1, ms_left)

    async def give_back(self, login: str) -> None:
        """Return an attempt whose check found the right secret, or never ran."""
        if self._redis is not None:
            await self._script(_GIVE_BACK, login)
            return
        count, ends = self._count(login)
        if count <= 1:
            self._local.pop(login, None)
        else:
            self._local[login] = (count - 1, ends)
