"""Organisations and their tills as stored: the configuration a process reads at request time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.org_config import OrgConfig
from memberbase.storage.notices import ORG_CHANGED, announce
from memberbase.storage.tables import api_clients, orgs, tills


@dataclass(frozen=True)
class TillLogin:
    org_id: int
    org_version: int
    code: str
    password_hash: str


@dataclass(frozen=True)
class StoredTill:
    password_hash: str
    active: bool


# Every API call runs this: built once, so SQLAlchemy neither rebuilds nor re-keys it.
_TILL_LOGIN = (
    sa.select(tills.c.org_id, tills.c.code, tills.c.password_hash, orgs.c.version)
    .join(orgs, orgs.c.id == tills.c.org_id)
    .where(tills.c.code == sa.bindparam("code"), tills.c.active.is_(True))
)


class OrgRepository:
    """Not tenant-scoped: this is where a request learns which org it belongs to."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def till_login(self, code: str) -> TillLogin | None:
        row = (await self._conn.execute(_TILL_LOGIN, {"code": code})).first()
        if row is None:
            return None
        return TillLogin(row.org_id, row.version, row.code, row.password_hash)

    async def get_config(self, org_id: int) -> tuple[int, OrgConfig] | None:
        row = (
            await self._conn.execute(sa.select(orgs.c.version, orgs.c.config).where(orgs.c.id == org_id))
        ).first()
        if row is None:
            return None
        return row.version, OrgConfig.model_validate(row.config)

    async def save(self, org: OrgConfig, version: int, now: dt.datetime, *, insert: bool) -> None:
        # Till secrets never go into the stored config: only their slow hashes, in `tills`.
        secrets = {"tills": {"__all__": {"password", "password_md5"}}, "api_clients": {"__all__": {"secret"}}}
        config = org.model_dump(mode="json", exclude=secrets)
        values = {"name": org.name, "config": config, "version": version, "updated_at": now}
        if insert:
            await self._conn.execute(orgs.insert().values(id=org.id, **values))
        else:
            await self._conn.execute(orgs.update().where(orgs.c.id == org.id).values(values))
        # Delivered at commit: running servers drop the logins they kept for this org.
        await announce(self._conn, ORG_CHANGED, str(org.id))

    async def tills(self, org_id: int) -> dict[str, StoredTill]:
        rows = await self._conn.execute(
            sa.select(tills.c.code, tills.c.password_hash, tills.c.active).where(tills.c.org_id == org_id)
        )
        return {r.code: StoredTill(r.password_hash, r.active) for r in rows}

    async def till_owner(self, code: str) -> int | None:
        found = await self._conn.execute(sa.select(tills.c.org_id).where(tills.c.code == code))
        return found.scalar_one_or_none()

    async def put_till(self, org_id: int, code: str, password_hash: str, store: str, *, insert: bool) -> None:
        values = {"password_hash": password_hash, "store": store, "active": True}
        if insert:
            await self._conn.execute(tills.insert().values(org_id=org_id, code=code, **values))
        else:
            await self._conn.execute(
                tills.update().where(tills.c.org_id == org_id, tills.c.code == code).values(values)
            )

    async def client_login(self, key: str) -> TillLogin | None:
        """An active API client by key, as a login (its key in place of a till code)."""
        query = (
            sa.select(api_clients.c.org_id, api_clients.c.key, api_clients.c.secret_hash, orgs.c.version)
            .join(orgs, orgs.c.id == api_clients.c.org_id)
            .where(api_clients.c.key == key, api_clients.c.active.is_(True))
        )
        row = (await self._conn.execute(query)).first()
        return None if row is None else TillLogin(row.org_id, row.version, row.key, row.secret_hash)

    async def clients(self, org_id: int) -> dict[str, StoredTill]:
        rows = await self._conn.execute(
            sa.select(api_clients.c.key, api_clients.c.secret_hash, api_clients.c.active).where(
                api_clients.c.org_id == org_id
            )
        )
        return {r.key: StoredTill(r.secret_hash, r.active) for r in rows}

    async def client_owner(self, key: str) -> int | None:
        found = await self._conn.execute(sa.select(api_clients.c.org_id).where(api_clients.c.key == key))
        return found.scalar_one_or_none()

    async def put_client(self, org_id: int, key: str, secret_hash: str, *, insert: bool) -> None:
        if insert:
            await self._conn.execute(
                api_clients.insert().values(org_id=org_id, key=key, secret_hash=secret_hash, active=True)
            )
        else:
            await self._conn.execute(
                api_clients.update()
                .where(api_clients.c.org_id == org_id, api_clients.c.key == key)
                .values(secret_hash=secret_hash, active=True)
            )

    async def deactivate_clients_except(self, org_id: int, keep: set[str]) -> None:
        await self._conn.execute(
            api_clients.update()
            .where(api_clients.c.org_id == org_id, api_clients.c.key.not_in(keep) if keep else sa.true())
            .values(active=False)
        )

    async def deactivate_tills_except(self, org_id: int, keep: set[str]) -> None:
        # Tills removed from the file can no longer log in; their history stays.
        await self._conn.execute(
            tills.update()
            .where(tills.c.org_id == org_id, tills.c.code.not_in(keep) if keep else sa.true())
            .values(active=False)
        )
