"""Resolving an HTTP Basic header to a Principal (till of one org)."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth import passwords
from memberbase.auth.passwords import VerifiedSecrets
from memberbase.auth.principal import Principal
from memberbase.auth.verification import SlowChecks
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
    """A till's Basic credentials to its Principal.

    No database connection is held across the slow check: the till's row is read and the
    connection given back first. Holding it there let 200 wrong passwords take every pooled
    connection for seconds, and every other call, right passwords included, failed with 500.
    """

    def __init__(
        self, engine: AsyncEngine, configs: OrgConfigCache, verified: VerifiedSecrets, checks: SlowChecks
    ) -> None:
        self._engine = engine
        self._configs = configs
        self._verified = verified
        self._checks = checks

    async def authenticate(self, header: str | None) -> Principal | None:
        """The caller's principal; None for wrong or missing credentials. Raises
        verification.Busy when too many slow checks are running and waiting already, and
        verification.LockedOut when the login has no failed attempt left to check with."""
        credentials = parse_basic(header)
        if credentials is None:
            return None
        till_code, secret = credentials
        async with reading(self._engine) as conn:
            login = await OrgRepository(conn).till_login(till_code)
        if login is None:
            # An unknown till costs what a wrong secret costs (the dummy hash).
            await self._checks.check(till_code, None, secret, passwords.verify_slow)
            return None
        if not await self._check(login.code, login.password_hash, secret):
            return None
        org = self._configs.get(login.org_id, login.org_version)
        if org is None:
            async with reading(self._engine) as conn:
                org = await self._configs.resolve(OrgRepository(conn), login)
            if org is None:
                return None
        till = org.till(till_code)
        return Principal(
            org=org, till_code=till_code, access=org.access_group(till.access_group if till else None)
        )

    async def _check(self, till_code: str, stored_hash: str, secret: str) -> bool:
        if self._verified.known(till_code, stored_hash, secret):
            return True
        ok = await self._checks.check(till_code, stored_hash, secret, passwords.verify_slow)
        if ok:
            self._verified.remember(till_code, stored_hash, secret)
        return ok
