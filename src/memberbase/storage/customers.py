"""Customers, their identifiers and enrolments, seen through one org.

Repositories flush at most; the unit of work commits. Every query is filtered
by the org the repository was built with, so another org's rows are unreachable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.customer import V2_IDENTIFIER_NAMES, CustomerRecord, CustomerType, Profile
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.org_config import IdentifierType
from memberbase.storage.counters import take_ids
from memberbase.storage.database import Statement
from memberbase.storage.tables import customers, enrolments, identifiers, profiles


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back naive; everything stored is UTC. asyncpg's come in UTC
    # already: a customer read converts four, so that case skips astimezone.
    if value.tzinfo is dt.UTC:
        return value
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _enrolment(row: Mapping[str, Any]) -> Enrolment:
    return _enrolment_of(tuple(row[name] for name in _ENROLMENT_FIELDS))


def _enrolment_of(values: Sequence[Any]) -> Enrolment:
    """From an enrolment's values in `_ENROLMENT_FIELDS` order (a row, or a record of an array)."""
    program_id, tier_serial, tier_expires_on, loyalty_points, lifetime_points, points_expire_on = values
    return Enrolment(
        program_id,
        tier_serial,
        _utc(tier_expires_on),
        loyalty_points,
        lifetime_points,
        _utc_or_none(points_expire_on),
    )


# (identifier claim, source account or None): the question a v2 lookup asks.
HolderQuestion = tuple[tuple[str, str], tuple[str, str] | None]


def lock_key(org_id: int, claim_type: str, value: str) -> int:
    digest = hashlib.blake2b(f"{org_id}\x1f{claim_type}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def profile_row(org_id: int, customer_id: int, profile: Profile) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "customer_id": customer_id,
        "source": profile.source,
        "account_id": profile.account_id,
        "firstname": profile.firstname,
        "lastname": profile.lastname,
        "identifiers": profile.identifiers,
        "comm_channels": profile.comm_channels,
        "fields": profile.fields,
        "created_at": profile.created_at,
        "created_till": profile.created_till,
    }


def plain_values(values: dict[str, Any]) -> dict[str, Any]:
    # Drivers bind str-enums unreliably (str() of a 3.11 Enum is "Class.MEMBER").
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def _record(m: Mapping[str, Any]) -> CustomerRecord:
    return CustomerRecord(
        id=m["id"],
        firstname=m["firstname"],
        lastname=m["lastname"],
        mobile=m["mobile"],
        email=m["email"],
        external_id=m["external_id"],
        type=CustomerType(m["type"]),
        source=m["source"],
        account_id=m["account_id"],
        fraud_status=m["fraud_status"],
        registered_on=_utc(m["registered_on"]),
        updated_on=_utc(m["updated_on"]),
        registered_till=m["registered_till"],
        associated_with=m["associated_with"],
        comm_channels=list(m["comm_channels"] or []),
        custom_fields=dict(m["custom_fields"] or {}),
        extended_fields=dict(m["extended_fields"] or {}),
        status_label=m["status_label"],
        referral_code=m["referral_code"],
        version=m["version"],
        merged_into=m["merged_into"],
        erased_at=_utc_or_none(m["erased_at"]),
        endpoints_enabled=m.get("endpoints_enabled"),
        activity=m.get("activity"),
    )


_COLUMNS = [c for c in customers.c if c.name != "org_id"]

# Built once: rows go in as execute parameters, so SQLAlchemy neither rebuilds the
# statement nor recomputes its cache key on every registration (a profiled hot spot).
_INSERT_CUSTOMER = Statement(customers.insert())
_INSERT_CUSTOMER_RETURNING_ID = Statement(customers.insert().returning(customers.c.id))
_INSERT_PROFILE = Statement(profiles.insert())
_INSERT_ENROLMENT = Statement(enrolments.insert())
_INSERT_IDENTIFIERS = Statement(identifiers.insert())
# Advisory locks on keys from `lock_key`, taken in the order given.
LOCK = Statement(sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"))
_FIND_OWNERS = (
    sa.select(identifiers.c.type.label("identifier_type"), *_COLUMNS)
    .join(
        customers,
        sa.and_(customers.c.org_id == identifiers.c.org_id, customers.c.id == identifiers.c.customer_id),
    )
    .where(
        identifiers.c.org_id == sa.bindparam("org_id"),
        sa.tuple_(identifiers.c.type, identifiers.c.value).in_(sa.bindparam("pairs", expanding=True)),
    )
)


def _wanted(*arrays: str) -> str:
    """The text[] parameters `arrays` side by side, numbered: `FROM _wanted(...) AS wanted(..., n)`.

    Each array reaches unnest through a scalar subquery, which hides its length from the
    planner: the plan then costs the same for any batch, and PostgreSQL keeps the prepared
    statement's generic plan. Seeing the length, it planned every execution afresh, which
    cost more than the lookup itself (a batch of four: 328 µs a statement, 174 µs without).
    """
    hidden = ", ".join(f"(SELECT CAST(:{name} AS text[]))" for name in arrays)
    return f"unnest({hidden}) WITH ORDINALITY"


# PostgreSQL: one probe of each primary key per identifier, whatever the statistics say.
# Without them (a new database; autovacuum off, as on this project's CI machine, or behind)
# the join above was planned as a walk over the org's customers or identifiers, and the
# plan, cached by the prepared statement, kept every registration's cost growing with the
# table. LATERAL subqueries with LIMIT cannot be flattened or reordered: each is an index
# scan with every key column bound. One statement for any number of identifiers.
_HELD = (
    " CROSS JOIN LATERAL (SELECT i.customer_id FROM identifiers i WHERE i.org_id = :org_id"
    " AND i.type = wanted.type AND i.value = wanted.value LIMIT 1) AS held"
)
_HELD_BY_KEY = f" FROM {_wanted('types', 'vals')} AS wanted(type, value, n)" + _HELD
_HOLDER_BY_KEY = (
    _HELD_BY_KEY
    + " CROSS JOIN LATERAL (SELECT "
    + ", ".join(f"c.{c.name}" for c in _COLUMNS)
    + " FROM customers c WHERE c.org_id = :org_id AND c.id = held.customer_id LIMIT 1) AS holder"
)
_HOLDER_COLUMNS = "SELECT wanted.type AS identifier_type, " + ", ".join(f"holder.{c.name}" for c in _COLUMNS)
FIND_OWNERS_BY_KEY = sa.text(_HOLDER_COLUMNS + _HOLDER_BY_KEY).columns(
    sa.column("identifier_type", identifiers.c.type.type), *(sa.column(c.name, c.type) for c in _COLUMNS)
)
# The same with the holder's enrolments, as an array of records: a lookup in one round trip.
_ENROLMENT_FIELDS = (
    "program_id", "tier_serial", "tier_expires_on", "loyalty_points", "lifetime_points", "points_expire_on"
)  # fmt: skip
# `wanted_n` numbers the pairs asked for from 1: several lookups run as one statement.
_FIND_OWNER_ENROLLED = Statement(
    sa.text(
        _HOLDER_COLUMNS
        + ", wanted.n AS wanted_n"
        + ", (SELECT array_agg(ROW("
        + ", ".join(f"e.{name}" for name in _ENROLMENT_FIELDS)
        + ") ORDER BY e.program_id) FROM enrolments e WHERE e.org_id = :org_id AND e.customer_id = holder.id)"
        + " AS enrolled"
        + _HOLDER_BY_KEY
    )
)
# The holder of each (type, value), one probe of the identifiers key per pair (see above).
CLAIM_HOLDERS_BY_KEY = sa.text("SELECT wanted.type, wanted.value, held.customer_id" + _HELD_BY_KEY)
_CLAIM_HOLDERS = Statement(CLAIM_HOLDERS_BY_KEY)


def _by_key_params(org_id: int, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    listed = list(pairs)
    return {"org_id": org_id, "types": [t for t, _ in listed], "vals": [v for _, v in listed]}


# SQLite has no LATERAL; its planner takes the plain join by its keys.
_OWNERS = Statement(_FIND_OWNERS, on_postgresql=FIND_OWNERS_BY_KEY)
_BY_ORG: sa.BindParameter[int] = sa.bindparam("org_id")
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_ID_ARRAY: sa.BindParameter[Any] = sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger()))
_GET = Statement(
    sa.select(*_COLUMNS).where(customers.c.org_id == _BY_ORG, customers.c.id == sa.bindparam("id"))
)
# The customer row, locked until the transaction ends: an update reads, decides and writes
# without another writer changing the row in between (SQLite's writers are serial anyway).
_GET_FOR_UPDATE = Statement(
    sa.select(*_COLUMNS).where(customers.c.org_id == _BY_ORG, customers.c.id == sa.bindparam("id")),
    on_postgresql=sa.select(*_COLUMNS)
    .where(customers.c.org_id == _BY_ORG, customers.c.id == sa.bindparam("id"))
    .with_for_update(),
)
_PROFILES = (
    sa.select(profiles)
    .where(profiles.c.org_id == _BY_ORG, profiles.c.customer_id.in_(_IDS))
    .order_by(profiles.c.customer_id, profiles.c.created_at, profiles.c.source, profiles.c.account_id)
)
_ENROLMENTS = Statement(
    sa.select(enrolments)
    .where(enrolments.c.org_id == _BY_ORG, enrolments.c.customer_id.in_(_IDS))
    .order_by(enrolments.c.customer_id, enrolments.c.program_id),
    on_postgresql=sa.select(enrolments)
    .where(enrolments.c.org_id == _BY_ORG, enrolments.c.customer_id == sa.any_(_ID_ARRAY))
    .order_by(enrolments.c.customer_id, enrolments.c.program_id),
)

_HOLDER_WHERE = (
    identifiers.c.org_id == sa.bindparam("org_id"),
    identifiers.c.type == sa.bindparam("type"),
    identifiers.c.value == sa.bindparam("value"),
)
# Several holders at once (PostgreSQL), each with whether they have the source account
# asked for with it; a NULL source asks for none (true, as in _HOLDER).
_HOLDERS_WITH_ACCOUNTS = Statement(
    sa.text(
        "SELECT wanted.n AS wanted_n, held.customer_id, wanted.source IS NULL"
        " OR EXISTS (SELECT 1 FROM profiles p WHERE p.org_id = :org_id"
        " AND p.customer_id = held.customer_id AND p.source = wanted.source"
        " AND p.account_id = wanted.account_id) AS has_account"
        f" FROM {_wanted('types', 'vals', 'sources', 'accounts')}"
        " AS wanted(type, value, source, account_id, n)" + _HELD
    )
)
_HOLDER = Statement(sa.select(identifiers.c.customer_id, sa.true()).where(*_HOLDER_WHERE))
_HOLDER_WITH_ACCOUNT = Statement(
    sa.select(
        identifiers.c.customer_id,
        sa.select(profiles.c.customer_id)
        .where(
            profiles.c.org_id == identifiers.c.org_id,
            profiles.c.customer_id == identifiers.c.customer_id,
            profiles.c.source == sa.bindparam("source"),
            profiles.c.account_id == sa.bindparam("account_id"),
        )
        .exists(),
    ).where(*_HOLDER_WHERE)
)


class CustomerRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    @property
    def conn(self) -> AsyncConnection:
        return self._conn

    async def lock_identifiers(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Serialise writers of the same identifiers (PostgreSQL; SQLite writers are serial already).

        Locks are taken in one global order (sorted keys, unnest keeps array order),
        so two transactions can wait for each other but never deadlock on them.
        """
        if self._conn.dialect.name != "postgresql":
            return
        keys = sorted({lock_key(self._org_id, claim_type, value) for claim_type, value in wanted})
        if keys:
            await LOCK.execute(self._conn, {"keys": keys})

    async def lock_customers(self, customer_ids: Iterable[int]) -> None:
        """Serialise writers touching these customers (PostgreSQL), e.g. a referrer's counters."""
        await self.lock_identifiers(("customer", str(i)) for i in customer_ids)

    async def find_owners(self, wanted: dict[IdentifierType, str]) -> dict[IdentifierType, CustomerRecord]:
        """The customer holding each identifier, in one round trip."""
        if not wanted:
            return {}
        pairs = [(k.value, v) for k, v in wanted.items()]
        params = {"pairs": pairs, **_by_key_params(self._org_id, pairs)}
        rows = await _OWNERS.fetch(self._conn, params)
        return {IdentifierType(row["identifier_type"]): _record(row) for row in rows}

    async def find_enrolled_each(
        self, pairs: Sequence[tuple[str, str]]
    ) -> list[tuple[CustomerRecord, list[Enrolment]] | None]:
        """For each (type, value), its holder with their enrolments; one statement on PostgreSQL."""
        if self._conn.dialect.name != "postgresql":
            found: list[tuple[CustomerRecord, list[Enrolment]] | None] = []
            for kind, value in pairs:
                record = await self.find_by_identifier(IdentifierType(kind), value)
                enrolled = None if record is None else (await self.enrolments([record.id]))[record.id]
                found.append(None if record is None or enrolled is None else (record, enrolled))
            return found
        rows = await _FIND_OWNER_ENROLLED.fetch(self._conn, _by_key_params(self._org_id, pairs))
        answers: list[tuple[CustomerRecord, list[Enrolment]] | None] = [None] * len(pairs)
        for row in rows:
            held = [_enrolment_of(e) for e in row["enrolled"] or ()]
            answers[row["wanted_n"] - 1] = (_record(row), held)
        return answers

    async def find_by_identifier(self, kind: IdentifierType, value: str) -> CustomerRecord | None:
        owners = await self.find_owners({kind: value})
        return owners.get(kind)

    async def get_or_none(self, customer_id: int) -> CustomerRecord | None:
        rows = await _GET.fetch(self._conn, {"org_id": self._org_id, "id": customer_id})
        return _record(rows[0]) if rows else None

    async def get_for_update(self, customer_id: int) -> CustomerRecord | None:
        """The customer, its row locked for the rest of the transaction (PostgreSQL)."""
        rows = await _GET_FOR_UPDATE.fetch(self._conn, {"org_id": self._org_id, "id": customer_id})
        return _record(rows[0]) if rows else None

    async def get(self, customer_id: int) -> CustomerRecord:
        found = await self.get_or_none(customer_id)
        if found is None:
            raise LookupError(f"customer {customer_id} not found in org {self._org_id}")
        return found

    async def add(self, values: dict[str, Any]) -> int:
        """Insert a customer row; returns the new id. The caller claims its identifiers."""
        row = {**plain_values(values), "org_id": self._org_id}
        if self._conn.dialect.name == "sqlite":
            row["id"] = await take_ids(self._conn, "customer")
            await _INSERT_CUSTOMER.execute(self._conn, row)
            new_id = int(row["id"])
        else:
            (inserted,) = await _INSERT_CUSTOMER_RETURNING_ID.fetch(self._conn, row)
            new_id = int(inserted["id"])
        return new_id

    async def claim(self, customer_id: int, claims: Iterable[tuple[str, str]]) -> None:
        """Record that these (type, value) identifiers are the customer's.

        A lost race surfaces as IntegrityError; the caller's savepoint undoes the item.
        """
        # A stable order keeps two concurrent claimers from deadlocking each other.
        rows = [
            {"org_id": self._org_id, "type": t, "value": v, "customer_id": customer_id}
            for t, v in sorted(set(claims))
        ]
        if rows:
            await _INSERT_IDENTIFIERS.execute(self._conn, rows)

    async def claim_holders(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which customer holds each of these (type, value) identifiers, for those held."""
        pairs = sorted(set(wanted))
        if not pairs:
            return {}
        if self._conn.dialect.name == "postgresql":
            held = await _CLAIM_HOLDERS.fetch(self._conn, _by_key_params(self._org_id, pairs))
            return {(r["type"], r["value"]): int(r["customer_id"]) for r in held}
        match = sa.or_(*(sa.and_(identifiers.c.type == t, identifiers.c.value == v) for t, v in pairs))
        query = sa.select(identifiers.c.type, identifiers.c.value, identifiers.c.customer_id).where(
            identifiers.c.org_id == self._org_id, match
        )
        return {(r[0], r[1]): int(r[2]) for r in await self._conn.execute(query)}

    async def holders_of(self, asked: Sequence[HolderQuestion]) -> list[tuple[int, bool] | None]:
        """For each (claim, account): who holds the identifier and, when `account` is given,
        whether they have that account. One statement on PostgreSQL."""
        if self._conn.dialect.name != "postgresql":
            return [await self.holder_of(claim, account) for claim, account in asked]
        params = {
            "org_id": self._org_id,
            "types": [claim[0] for claim, _ in asked],
            "vals": [claim[1] for claim, _ in asked],
            "sources": [account[0] if account else None for _, account in asked],
            "accounts": [account[1] if account else None for _, account in asked],
        }
        answers: list[tuple[int, bool] | None] = [None] * len(asked)
        for row in await _HOLDERS_WITH_ACCOUNTS.fetch(self._conn, params):
            answers[row["wanted_n"] - 1] = (int(row["customer_id"]), bool(row["has_account"]))
        return answers

    async def holder_of(
        self, claim: tuple[str, str], account: tuple[str, str] | None
    ) -> tuple[int, bool] | None:
        """Who holds the identifier and, when `account` is given, whether they have that account."""
        params = {"org_id": self._org_id, "type": claim[0], "value": claim[1]}
        if account is None:
            rows = await _HOLDER.fetch(self._conn, params)
        else:
            params |= {"source": account[0], "account_id": account[1]}
            rows = await _HOLDER_WITH_ACCOUNT.fetch(self._conn, params)
        return (int(rows[0]["customer_id"]), bool(rows[0]["anon_1"])) if rows else None

    async def accounts(self, customer_ids: Iterable[int]) -> dict[int, frozenset[tuple[str, str]]]:
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        query = sa.select(profiles.c.customer_id, profiles.c.source, profiles.c.account_id).where(
            profiles.c.org_id == self._org_id, profiles.c.customer_id.in_(ids)
        )
        found: dict[int, set[tuple[str, str]]] = {i: set() for i in ids}
        for r in (await self._conn.execute(query)).all():
            found[r.customer_id].add((r.source, r.account_id))
        return {i: frozenset(a) for i, a in found.items()}

    async def release(self, claims: Iterable[tuple[str, str]]) -> None:
        for claim_type, value in claims:
            await self._conn.execute(
                identifiers.delete().where(
                    identifiers.c.org_id == self._org_id,
                    identifiers.c.type == claim_type,
                    identifiers.c.value == value,
                )
            )

    async def update(self, customer_id: int, values: dict[str, Any]) -> None:
        """Change these columns; every change bumps the customer's version (v2's ETag)."""
        if not values:
            return
        await self._conn.execute(
            customers.update()
            .where(customers.c.org_id == self._org_id, customers.c.id == customer_id)
            .values({**plain_values(values), "version": customers.c.version + 1})
        )

    async def add_profile(self, customer_id: int, profile: Profile) -> None:
        await _INSERT_PROFILE.execute(self._conn, profile_row(self._org_id, customer_id, profile))

    async def keep_profile(self, customer_id: int, profile: Profile) -> None:
        """Bring the profile of `profile.source`/`account_id` in step after a v1.1 update.

        v1.1 knows mobile, email and external id only: the profile's other identifiers
        (a v2 registration's cuid, wechat, ...) are kept. Creates the profile if missing.
        """
        where = sa.and_(
            profiles.c.org_id == self._org_id,
            profiles.c.customer_id == customer_id,
            profiles.c.source == profile.source,
            profiles.c.account_id == profile.account_id,
        )
        stored = (
            await self._conn.execute(sa.select(profiles.c.identifiers).where(where))
        ).scalar_one_or_none()
        row = profile_row(self._org_id, customer_id, profile)
        if stored is None:
            await _INSERT_PROFILE.execute(self._conn, row)
            return
        v11_types = set(V2_IDENTIFIER_NAMES.values())
        kept = [i for i in stored if i.get("type") not in v11_types]
        changed = {k: row[k] for k in ("firstname", "lastname", "comm_channels", "fields")}
        changed["identifiers"] = [*row["identifiers"], *kept]
        await self._conn.execute(profiles.update().where(where).values(changed))

    async def update_profile(
        self, customer_id: int, account: tuple[str, str], values: dict[str, Any]
    ) -> None:
        """Change columns of one source account's profile (names, fields, comm channels)."""
        await self._conn.execute(
            profiles.update()
            .where(
                profiles.c.org_id == self._org_id,
                profiles.c.customer_id == customer_id,
                profiles.c.source == account[0],
                profiles.c.account_id == account[1],
            )
            .values(values)
        )

    async def claims_of(self, customer_id: int) -> set[tuple[str, str]]:
        """Every (type, value) identifier the customer holds, card numbers included."""
        query = sa.select(identifiers.c.type, identifiers.c.value).where(
            identifiers.c.org_id == self._org_id, identifiers.c.customer_id == customer_id
        )
        return {(r[0], r[1]) for r in (await self._conn.execute(query)).all()}

    async def profiles(self, customer_ids: list[int]) -> dict[int, list[Profile]]:
        if not customer_ids:
            return {}
        found: dict[int, list[Profile]] = {cid: [] for cid in customer_ids}
        params = {"org_id": self._org_id, "ids": customer_ids}
        for r in (await self._conn.execute(_PROFILES, params)).all():
            found[r.customer_id].append(
                Profile(
                    source=r.source,
                    account_id=r.account_id,
                    firstname=r.firstname,
                    lastname=r.lastname,
                    identifiers=list(r.identifiers),
                    comm_channels=list(r.comm_channels),
                    fields=dict(r.fields),
                    created_at=_utc(r.created_at),
                    created_till=r.created_till,
                )
            )
        return found

    async def enrolments(self, customer_ids: list[int]) -> dict[int, list[Enrolment]]:
        if not customer_ids:
            return {}
        found: dict[int, list[Enrolment]] = {cid: [] for cid in customer_ids}
        params = {"org_id": self._org_id, "ids": customer_ids}
        for row in await _ENROLMENTS.fetch(self._conn, params):
            found[row["customer_id"]].append(_enrolment(row))
        return found

    async def enrol(self, customer_id: int, enrolment: Enrolment, now: dt.datetime) -> None:
        await _INSERT_ENROLMENT.execute(
            self._conn,
            {
                "org_id": self._org_id,
                "customer_id": customer_id,
                "program_id": enrolment.program_id,
                "tier_serial": enrolment.tier_serial,
                "tier_expires_on": enrolment.tier_expires_on,
                "loyalty_points": enrolment.loyalty_points,
                "lifetime_points": enrolment.lifetime_points,
                "points_expire_on": enrolment.points_expire_on,
                "enrolled_at": now,
            },
        )
