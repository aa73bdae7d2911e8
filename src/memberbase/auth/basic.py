"""Resolving an HTTP Basic header to a Principal (till of one org)."""

from __future__ import annotations

import base64
import binascii

import anyio
import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.passwords import VerifiedSecrets, dummy_hash, verify_slow
from memberbase.auth.principal import Principal
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.text import has_control
from memberbase.storage.database import reading
from memberbase.storage.orgs import OrgRepository, TillLogin


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep or not username or not password or has_control(decoded):
        return None
    return username, password


def _verify_missing(secret: str) -> bool:
    """An unknown login costs what a wrong secret costs (the dummy hash made on first need)."""
    return verify_slow(dummy_hash(), secret)


class OrgConfigCache:
    """Parsed org configs by version: the database is the truth, the cache saves parsing."""

    def __init__(self) -> None:
        self._by_org: dict[int, tuple[int, OrgConfig]] = {}

    def get(self, org_id: int, version: int) -> OrgConfig | None:
        entry = self._by_org.get(org_id)
        return entry[1] if entry and entry[0] == version else None

    def put(self, org_id: int, version: int, config: OrgConfig) -> None:
        self._by_org[org_id] = (version, config)

    async def resolve(self, repo: OrgRepository, login: TillLogin) -> OrgConfig | None:
        """The config of the login's org: cached when its version is current, else read and cached."""
        org = self.get(login.org_id, login.org_version)
        if org is not None:
            return org
        loaded = await repo.get_config(login.org_id)
        if loaded is None:
            return None
        version, org = loaded
        self.put(login.org_id, version, org)
        return org


class BasicAuthenticator:
    def __init__(self, engine: AsyncEngine, configs: OrgConfigCache, verified: VerifiedSecrets) -> None:
        self._engine = engine
        self._configs = configs
        self._verified = verified
        # One slow verification per till at a time: a burst from a till that is not yet
        # memoised waits for the first check instead of running fifty argon2 hashes.
        self._verifying: dict[str, anyio.Lock] = {}

    async def authenticate(self, header: str | None) -> Principal | None:
        credentials = parse_basic(header)
        if credentials is None:
            return None
        till_code, secret = credentials
        async with reading(self._engine) as conn:
            repo = OrgRepository(conn)
            login = await repo.till_login(till_code)
            if login is None:
                await anyio.to_thread.run_sync(_verify_missing, secret)
                return None
            if not await self._check(login.code, login.password_hash, secret):
                return None
            org = await self._configs.resolve(repo, login)
            if org is None:
                return None
        till = org.till(till_code)
        return Principal(
            org=org, till_code=till_code, access=org.access_group(till.access_group if till else None)
        )

    async def _check(self, till_code: str, stored_hash: str, secret: str) -> bool:
        if self._verified.known(till_code, stored_hash, secret):
            return True
        lock = self._verifying.setdefault(till_code, anyio.Lock())
        async with lock:
            if self._verified.known(till_code, stored_hash, secret):
                return True
            ok = await anyio.to_thread.run_sync(verify_slow, stored_hash, secret)
            if ok:
                self._verified.remember(till_code, stored_hash, secret)
            return ok
