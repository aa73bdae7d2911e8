"""Till secrets: the hosted convention sends md5_hex(password) as the Basic password.

Only a slow (argon2id) hash of that wire value is stored. Verifying argon2 on
every request would cap throughput at a few dozen requests per second per
core, so a successful verification is remembered in process as a SHA-256 of
the presented secret, tied to the stored hash: a changed password (new hash)
or a different secret never matches the memo, and the memo holds nothing that
can be replayed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
_MEMO_LIMIT = 10_000


def wire_secret(password: str) -> str:
    """What a till sends for `password`: the lowercase hex MD5 (hosted API convention)."""
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


def hash_wire_secret(secret: str) -> str:
    return _hasher.hash(secret.lower())


def verify_slow(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret.lower())
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_exact(secret: str) -> str:
    """For secrets compared exactly (API client secrets), unlike the case-free md5 hex of tills."""
    return _hasher.hash(secret)


def verify_exact(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """Verified against when a till does not exist, so a miss costs as much as a wrong password.

    Made on first use, not at import: an argon2 hash takes 64 MiB and a tenth of a second,
    which every command (`memberbase import` among them) paid for nothing.
    """
    return _hasher.hash("memberbase-no-such-till")


class VerifiedSecrets:
    """Per-process memo of secrets that verified against a stored hash."""

    def __init__(self, *, fold_case: bool = True) -> None:
        # Till secrets are md5 hex (any case); API client secrets compare exactly.
        self._fold_case = fold_case
        self._memo: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def _digest(self, secret: str) -> bytes:
        return hashlib.sha256((secret.lower() if self._fold_case else secret).encode()).digest()

    def known(self, till_code: str, stored_hash: str, secret: str) -> bool:
        entry = self._memo.get(till_code)
        if entry is None or entry[0] != stored_hash:
            return False
        return hmac.compare_digest(entry[1], self._digest(secret))

    def remember(self, till_code: str, stored_hash: str, secret: str) -> None:
        self._memo[till_code] = (stored_hash, self._digest(secret))
        self._memo.move_to_end(till_code)
        while len(self._memo) > _MEMO_LIMIT:
            self._memo.popitem(last=False)
