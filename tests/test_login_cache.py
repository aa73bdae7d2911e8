"""The per-process cache of verified Basic logins: what it keeps, and when it must not."""

from __future__ import annotations

from memberbase.auth.login_cache import LoginCache
from memberbase.auth.principal import Principal
from memberbase.domain.org_config import OrgConfig

ORG = OrgConfig.model_validate({"id": 1, "name": "Org", "tills": [{"code": "t1", "password": "x"}]})


def _principal(till: str = "t1") -> Principal:
    return Principal(org=ORG, till_code=till, access=ORG.access_group(None))


def _live() -> LoginCache:
    cache = LoginCache()
    cache.set_live(True)
    return cache


def test_a_verified_login_is_recalled_with_its_secret_only() -> None:
    cache = _live()
    principal = _principal()
    cache.remember("t1", "abcdef", principal, cache.generation)
    assert cache.recall("t1", "abcdef") is principal
    assert cache.recall("t1", "ABCDEF") is principal  # md5 hex, compared without case
    assert cache.recall("t1", "abcdeg") is None
    assert cache.recall("t2", "abcdef") is None


def test_nothing_is_kept_while_notices_cannot_arrive() -> None:
    cache = LoginCache()  # the feed is not listening (SQLite, or PostgreSQL not reached yet)
    cache.remember("t1", "s", _principal(), cache.generation)
    assert cache.recall("t1", "s") is None


def test_a_check_that_began_before_a_notice_is_not_kept() -> None:
    cache = _live()
    began = cache.generation
    cache.forget_login("someone-else")  # a notice arrived while the check ran
    cache.remember("t1", "s", _principal(), began)
    assert cache.recall("t1", "s") is None


def test_notices_and_lost_feeds_drop_what_was_kept() -> None:
    cache = _live()
    cache.remember("t1", "s", _principal(), cache.generation)
    cache.remember("t2", "s", _principal("t2"), cache.generation)
    cache.forget_login("t1")
    assert (cache.recall("t1", "s"), cache.recall("t2", "s") is not None) == (None, True)
    cache.forget_all()
    assert cache.recall("t2", "s") is None
    cache.remember("t2", "s", _principal("t2"), cache.generation)
    cache.set_live(False)
    assert cache.recall("t2", "s") is None


def test_the_cache_is_bounded() -> None:
    cache = LoginCache(limit=2)
    cache.set_live(True)
    for till in ("a", "b", "c"):
        cache.remember(till, "s", _principal(till), cache.generation)
    assert [cache.recall(t, "s") is not None for t in ("a", "b", "c")] == [False, True, True]
