"""Principals of Basic logins verified lately, kept in this process while change notices reach it.

Without it every call pays a failed-login check in Redis, a till query and a pool
checkout before its own work: a third of a lookup's CPU. An entry is only as good
as the notices that would void it, so the cache holds nothing unless the notice
feed is live (on PostgreSQL: LISTEN, see storage/notices.py): an org reloaded
anywhere clears it, a failed login anywhere drops that login (the next call with
the right password then meets the lockout check again). Only a SHA-256 of the
secret is kept, as in the verification memo.
"""

from __future__ import annotations

import hashlib
import hmac

from memberbase.auth.principal import Principal

_LIMIT = 10_000


def _digest(secret: str) -> bytes:
    # Till secrets are md5 hex and compared without case (passwords.VerifiedSecrets).
    return hashlib.sha256(secret.lower().encode()).digest()


class LoginCache:
    def __init__(self, limit: int = _LIMIT) -> None:
        self._limit = limit
        self._entries: dict[str, tuple[bytes, Principal]] = {}
        # Bumped by every notice: a check that started before one must not store its answer.
        self._generation = 0
        self._live = False

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def live(self) -> bool:
        return self._live

    def recall(self, login: str, secret: str) -> Principal | None:
        entry = self._entries.get(login)
        if entry is None or not hmac.compare_digest(entry[0], _digest(secret)):
            return None
        return entry[1]

    def remember(self, login: str, secret: str, principal: Principal, seen_generation: int) -> None:
        """Keep a login verified by a check that began at `seen_generation`, if nothing changed since."""
        if not self._live or seen_generation != self._generation:
            return
        if len(self._entries) >= self._limit and login not in self._entries:
            del self._entries[next(iter(self._entries))]
        self._entries[login] = (_digest(secret), principal)

    def forget_login(self, login: str) -> None:
        self._generation += 1
        self._entries.pop(login, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    def set_live(self, live: bool) -> None:
        """The notice feed came up or went down: either way what was kept may have missed notices."""
        self.forget_all()
        self._live = live
