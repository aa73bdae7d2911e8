"""The console's pages: the dashboard, finding a customer, and the customer's page."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from memberbase.domain.subscriptions import SubscriptionKey
from memberbase.http.console.charts import stacked_bars
from memberbase.http.console.pages import message, page
from memberbase.http.console.sessions import current_staff, to_login
from memberbase.http.deps import services_of
from memberbase.usecases.change_status import status_log
from memberbase.usecases.member_care import Staff, dashboard, history
from memberbase.usecases.read_audits import AuditQuery, read_audits
from memberbase.usecases.read_customers import details
from memberbase.usecases.read_merges import merges_of
from memberbase.usecases.read_subscriptions import consent_log
from memberbase.usecases.search_customers import search_customers

router = APIRouter(prefix="/member-care/ui", include_in_schema=False)
PAGE_SIZE = 20
# Listed for every customer, set or not; other channels appear once set.
_LISTED = (("SMS", "BULK"), ("SMS", "TRANS"), ("EMAIL", "BULK"), ("EMAIL", "TRANS"))


def customer_id_of(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 18 else None


@router.get("/")
async def dashboard_page(request: Request) -> Response:
    staff = await current_staff(request)
    if staff is None:
        return to_login()
    today = dt.datetime.now(staff.org.zone).date()
    board = await dashboard(services_of(request).engine, staff.org, today)
    chart = stacked_bars(board.days, board.by_source, "Registrations per day by source, last 30 days")
    return page("dashboard.html", 200, staff, board=board, chart=chart)


@router.get("/search")
async def search_page(request: Request, q: str = "", offset: int = 0) -> Response:
    staff = await current_staff(request)
    if staff is None:
        return to_login()
    text, start = q.strip()[:100], max(0, min(offset, 10_000))
    found = None
    if text:
        found = await search_customers(services_of(request).engine, staff.org, text, start, PAGE_SIZE)
    program = staff.org.default_program
    tiers = {t.serial: t.name for t in program.tiers} if program else {}
    return page("search.html", 200, staff, q=text, page=found, offset=start, limit=PAGE_SIZE, tiers=tiers)


def _subscriptions(states: dict[SubscriptionKey, bool]) -> list[tuple[str, str, str]]:
    seen: dict[tuple[str, str], bool | None] = dict.fromkeys(_LISTED)
    for key, subscribed in states.items():
        seen[(key.channel, key.priority)] = subscribed
    words = {True: "Opted in", False: "Opted out", None: "Not set"}
    return [(channel, priority, words[state]) for (channel, priority), state in seen.items()]


async def render_customer(
    request: Request, staff: Staff, customer_id: int, status: int = 200, **flash: Any
) -> Response:
    engine = services_of(request).engine
    found = await details(engine, staff.org, customer_id)
    if found is None:
        return message(404, "Not found", f"This organisation has no customer {customer_id}.", staff)
    r = found.record
    query = AuditQuery(r.id, 100, 0, True, None, None, None, None)
    # Independent reads, each on a pooled connection of its own: side by side, not one by one.
    (ledger, events), consent, statuses, audits, merges = await asyncio.gather(
        history(engine, staff.org, r.id),
        consent_log(engine, staff.org, r.id),
        status_log(engine, staff.org, r.id),
        read_audits(engine, staff.org.id, query),
        merges_of(engine, staff.org, r.id),
    )
    values: dict[str, Any] = {
        "details": found,
        "customer_name": f"{r.firstname} {r.lastname}".strip() or f"Customer {r.id}",
        "programs": {p.id: p.name for p in staff.org.programs},
        "tiers": {(p.id, t.serial): t.name for p in staff.org.programs for t in p.tiers},
        "subscriptions": _subscriptions(found.subscriptions),
        "consent": consent or [],
        "status_log": statuses or [],
        "audits": audits.records,
        "merges": merges,
        "ledger": ledger,
        "events": events,
        "can_change": staff.user.may("change") and r.erased_at is None,
    }
    return page("customer.html", status, staff, **values, **flash)


@router.get("/customer/{customer_id}")
async def customer_page(request: Request, customer_id: str, done: str = "") -> Response:
    staff = await current_staff(request)
    if staff is None:
        return to_login()
    wanted = customer_id_of(customer_id)
    if wanted is None:
        return message(404, "Not found", "That is not a customer id.", staff)
    flash = _DONE.get(done)
    return await render_customer(request, staff, wanted, flash=flash)


# What a change that worked says on the page it comes back to (fixed texts: nothing reflected).
_DONE = {
    "status": "Status changed.",
    "subscription": "Subscription changed.",
    "profile": "Profile saved.",
    "note": "Note added.",
}
