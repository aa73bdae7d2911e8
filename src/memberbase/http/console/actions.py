"""The console's changes: each through the same use-case as the API, audited as MEMBER_CARE.

Every change is a POST carrying the session's CSRF token, by a staff user whose role
allows it (agent or admin), to a customer of its own org; anything else is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import RedirectResponse, Response

from memberbase.domain.customer import Failure
from memberbase.domain.subscriptions import Evidence, ItemIn
from memberbase.domain.v2_request import ProfileIn, V2Draft
from memberbase.http.console.pages import form_of, message, same
from memberbase.http.console.sessions import current_staff, to_login
from memberbase.http.console.ui import customer_id_of, render_customer
from memberbase.http.deps import services_of
from memberbase.http.request_context import request_id
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.change_status import change_status
from memberbase.usecases.member_care import Staff, add_note, staff_context
from memberbase.usecases.subscriptions import update_v2 as change_subscriptions
from memberbase.usecases.update_v2 import update_v2

router = APIRouter(prefix="/member-care/ui/customer", include_in_schema=False)
Change = Callable[[AsyncEngine, Staff, int, dict[str, str], RequestContext], Awaitable[Failure | None]]


async def _act(request: Request, customer_id: str, what: str, change: Change) -> Response:
    staff = await current_staff(request)
    if staff is None:
        return to_login()
    form = await form_of(request)
    if not same(form.get("csrf"), staff.csrf):
        return message(403, "Refused", "The form had expired: reload the page and try again.", staff)
    if not staff.user.may("change"):
        return message(403, "Refused", "Your role can read customers but not change them.", staff)
    wanted = customer_id_of(customer_id)
    if wanted is None:
        return message(404, "Not found", "That is not a customer id.", staff)
    context = staff_context(staff, request_id(request), dt.datetime.now(dt.UTC))
    failure = await change(services_of(request).engine, staff, wanted, form, context)
    if failure is not None:
        text = failure.code.format(*failure.args) + (f": {failure.detail}" if failure.detail else "")
        refused = f"Refused ({failure.code.code}): {text}"
        return await render_customer(request, staff, wanted, 400, flash=refused, flash_bad=True)
    return RedirectResponse(f"/member-care/ui/customer/{wanted}?done={what}", status_code=303)


async def _status(
    engine: AsyncEngine, staff: Staff, customer_id: int, form: dict[str, str], context: RequestContext
) -> Failure | None:
    label, reason = form.get("label", ""), form.get("reason", "")
    return (await change_status(engine, staff.org, customer_id, label, reason, context)).failure


async def _subscription(
    engine: AsyncEngine, staff: Staff, customer_id: int, form: dict[str, str], context: RequestContext
) -> Failure | None:
    action = form.get("action", "")
    if action not in ("OPTIN", "OPTOUT"):
        return None
    item = ItemIn(
        channel=form.get("channel", ""),
        priority=form.get("priority", ""),
        subscribed=action == "OPTIN",
        evidence=Evidence(reason=f"Member Care: {staff.user.username}"),
    )
    outcome = await change_subscriptions(engine, staff.org, customer_id, [item], context)
    return outcome.failure or next((f for f in outcome.items if f is not None), None)


async def _profile(
    engine: AsyncEngine, staff: Staff, customer_id: int, form: dict[str, str], context: RequestContext
) -> Failure | None:
    source, account = form.get("source") or "INSTORE", form.get("accountId") or None
    profile = ProfileIn(source, account, form.get("firstName", ""), form.get("lastName", ""), [], [], {})
    draft = V2Draft([profile], None, None, None, {}, [], None, None)
    return (await update_v2(engine, staff.org, customer_id, draft, (None, None), context)).failure


async def _note(
    engine: AsyncEngine, staff: Staff, customer_id: int, form: dict[str, str], context: RequestContext
) -> Failure | None:
    text = form.get("note", "").strip()
    if text:
        await add_note(engine, staff, customer_id, text, context)
    return None


def _route(what: str, change: Change) -> Callable[[Request, str], Awaitable[Response]]:
    async def post(request: Request, customer_id: str) -> Response:
        return await _act(request, customer_id, what, change)

    return post


# POST /member-care/ui/customer/{id}/<what>: each change's form posts to its own path.
_CHANGES: dict[str, Change] = {
    "status": _status,
    "subscription": _subscription,
    "profile": _profile,
    "note": _note,
}
for _what, _change in _CHANGES.items():
    router.add_api_route(f"/{{customer_id}}/{_what}", _route(_what, _change), methods=["POST"])
