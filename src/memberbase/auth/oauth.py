"""OAuth client credentials: key and secret for a token; a token (plus attribution) for a Principal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth import passwords, tokens
from memberbase.auth.basic import OrgConfigCache
from memberbase.auth.passwords import VerifiedSecrets
from memberbase.auth.principal import Principal
from memberbase.auth.signing_keys import SigningKeys
from memberbase.auth.verification import SlowChecks
from memberbase.domain.org_config import OrgConfig
from memberbase.storage.database import reading
from memberbase.storage.orgs import OrgRepository, TillLogin


@dataclass(frozen=True)
class IssuedToken:
    token: str
    ttl_seconds: int


class UnknownAttributionTill(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class OAuthService:
    def __init__(
        self, engine: AsyncEngine, configs: OrgConfigCache, checks: SlowChecks, keys: SigningKeys
    ) -> None:
        self._engine = engine
        self._configs = configs
        self._verified = VerifiedSecrets(fold_case=False)
        self._checks = checks
        self.keys = keys

    async def _client(self, key: str) -> tuple[TillLogin, OrgConfig] | None:
        async with reading(self._engine) as conn:
            repo = OrgRepository(conn)
            login = await repo.client_login(key)
            if login is None:
                return None
            org = await self._configs.resolve(repo, login)
            if org is None:
                return None
        return login, org

    async def generate(self, key: str, secret: str, now: dt.datetime) -> IssuedToken | None:
        """A token for a right key and secret, None for wrong ones. Raises verification.Busy
        and verification.LockedOut."""
        found = await self._client(key)  # (its connection is given back before the slow check)
        if found is None:
            # An unknown key costs what a wrong secret costs (the dummy hash).
            await self._checks.check(key, None, secret, passwords.verify_exact)
            return None
        login, org = found
        if not self._verified.known(key, login.password_hash, secret):
            if not await self._checks.check(key, login.password_hash, secret, passwords.verify_exact):
                return None
            self._verified.remember(key, login.password_hash, secret)
        client = org.api_client(key)
        if client is None:  # the file no longer has it, though the row is still active
            return None
        token = tokens.issue(self.keys.current, org.id, key, client.token_ttl_seconds, now)
        return IssuedToken(token, client.token_ttl_seconds)

    async def authenticate(self, token: str, attribution_till: str | None) -> Principal | None:
        """The principal of a valid token; None for an invalid one or a removed client.

        Raises tokens.TokenExpired for an expired token and UnknownAttributionTill when the
        named till is not a till of the client's org.
        """
        try:
            claims = tokens.verify(self.keys, token)
        except tokens.TokenInvalid:
            return None
        found = await self._client(claims.client_key)
        if found is None or found[0].org_id != claims.org_id:
            return None
        org = found[1]
        client = org.api_client(claims.client_key)
        if client is None:
            return None
        till = attribution_till or client.default_till
        if org.till(till) is None:
            raise UnknownAttributionTill(till)
        return Principal(
            org=org, till_code=till, access=org.access_group(client.access_group), api_client=client.key
        )
