"""Member Care (the staff console): staff logins and sessions, notes, the dashboard's figures.

Staff change customers through the API's own use-cases (update_v2, change_status,
subscriptions); what is here is only what the console has and the API has not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.passwords import verify_exact
from memberbase.auth.verification import SlowChecks
from memberbase.domain.org_config import OrgConfig, StaffUser
from memberbase.storage import customer_history, staff_sessions
from memberbase.storage.audit import AuditRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.storage.database import reading
from memberbase.storage.orgs import OrgRepository
from memberbase.storage.tables import customers, orgs
from memberbase.usecases.auditing import RequestContext, audit_entry
from memberbase.usecases.unit_of_work import UnitOfWork

IDLE = dt.timedelta(minutes=30)  # a session unused this long has ended
_TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen is written at most this often
NOTE_MAX = 2000


@dataclass(frozen=True)
class Staff:
    """A logged-in staff user: the org it sees, who it is, its session's CSRF token."""

    org: OrgConfig
    user: StaffUser
    csrf: str
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def staff_context(staff: Staff, request_id: str, now: dt.datetime) -> RequestContext:
    """Who a console change is by, in the audit row: the staff user, through Member Care."""
    who = {"entityType": "STAFF", "entityId": staff.user.username, "entitySource": "MEMBER_CARE"}
    return RequestContext(till_code="member-care", request_id=request_id, now=now, user_context=who)


async def _find_staff(engine: AsyncEngine, username: str) -> tuple[OrgConfig, StaffUser] | None:
    """The org and staff user a login names (usernames are unique across orgs)."""
    async with reading(engine) as conn:
        rows = (await conn.execute(sa.select(orgs.c.config))).all()
    for row in rows:
        org = OrgConfig.model_validate(row.config)
        user = org.staff_user(username)
        if user is not None:
            return org, user
    return None


async def log_in(
    engine: AsyncEngine, checks: SlowChecks, username: str, password: str, now: dt.datetime
) -> tuple[int, str] | None:
    """(org id, session token) for a right login, None for a wrong one; raises Busy or LockedOut
    (the failed-login limit of tills, counted per staff username)."""
    found = await _find_staff(engine, username.strip())
    stored = found[1].password_hash if found is not None else None
    if not await checks.check(username.strip().lower(), stored, password, verify_exact) or found is None:
        return None
    org, user = found
    token = secrets.token_urlsafe(32)
    async with UnitOfWork(engine) as uow:  # a new token at every login: no session fixation
        await staff_sessions.start(
            uow.conn, org.id, token_hash(token), user.username, secrets.token_urlsafe(32), now
        )
    return org.id, token


async def session_of(engine: AsyncEngine, org_id: int, token: str, now: dt.datetime) -> Staff | None:
    """The staff user a cookie's session belongs to; None when it ended, idled out, or its
    user is no longer in the org file."""
    hashed = token_hash(token)
    async with reading(engine) as conn:
        found = await staff_sessions.find(conn, org_id, hashed)
        stored = await OrgRepository(conn).get_config(org_id) if found is not None else None
    if found is None or stored is None:
        return None
    user = stored[1].staff_user(found.username)
    if now - found.last_seen > IDLE or user is None:
        await log_out(engine, org_id, token, now)
        return None
    if now - found.last_seen > _TOUCH_EVERY:
        async with UnitOfWork(engine) as uow:
            await staff_sessions.touch(uow.conn, org_id, hashed, now)
    return Staff(stored[1], user, found.csrf, hashed)


async def log_out(engine: AsyncEngine, org_id: int, token: str, now: dt.datetime) -> None:
    async with UnitOfWork(engine) as uow:
        await staff_sessions.end(uow.conn, org_id, token_hash(token), now)


async def add_note(
    engine: AsyncEngine, staff: Staff, customer_id: int, text: str, context: RequestContext
) -> bool:
    """A staff note on the customer's audit trail; False when the org has no such customer."""
    async with UnitOfWork(engine) as uow:
        if await CustomerRepository(uow.conn, staff.org.id).get_or_none(customer_id) is None:
            return False
        note = {"note": text.strip()[:NOTE_MAX]}
        await AuditRepository(uow.conn, staff.org.id).add(
            audit_entry(context, customer_id, "customer.note", note)
        )
    return True


HISTORY_LEDGER = 50
HISTORY_EVENTS = 20


async def history(
    engine: AsyncEngine, org: OrgConfig, customer_id: int
) -> tuple[list[customer_history.LedgerLine], list[customer_history.SentEvent]]:
    """The customer's latest ledger entries and events sent, newest first."""
    async with reading(engine) as conn:
        lines = await customer_history.ledger(conn, org.id, customer_id, HISTORY_LEDGER)
        sent = await customer_history.events(conn, org.id, customer_id, HISTORY_EVENTS)
    return lines, sent


@dataclass
class Dashboard:
    days: list[dt.date]
    by_source: dict[str, list[int]]  # source -> registrations per day, aligned with `days`
    loyalty: list[int]  # new loyalty members per day
    total: int


async def dashboard(engine: AsyncEngine, org: OrgConfig, today: dt.date, span: int = 30) -> Dashboard:
    """Registrations per day by source and new loyalty members, the last `span` days in the
    org's time zone (counted in Python from one indexed read of the window's rows)."""
    days = [today - dt.timedelta(days=span - 1 - i) for i in range(span)]
    start = dt.datetime.combine(days[0], dt.time(), org.zone).astimezone(dt.UTC)
    query = sa.select(customers.c.source, customers.c.registered_on, customers.c.type).where(
        customers.c.org_id == org.id, customers.c.registered_on >= start, customers.c.merged_into.is_(None)
    )
    async with reading(engine) as conn:
        rows: list[Any] = list((await conn.execute(query)).all())
    index = {day: i for i, day in enumerate(days)}
    by_source: dict[str, list[int]] = {}
    loyalty = [0] * span
    for source, registered_on, kind in rows:
        when = registered_on if registered_on.tzinfo else registered_on.replace(tzinfo=dt.UTC)
        i = index.get(when.astimezone(org.zone).date())
        if i is None:
            continue
        by_source.setdefault(source, [0] * span)[i] += 1
        if kind == "LOYALTY":
            loyalty[i] += 1
    return Dashboard(days, dict(sorted(by_source.items())), loyalty, sum(map(sum, by_source.values())))
