"""Rendering console pages: one Jinja2 environment, escaping everything, dates in the org's zone."""

from __future__ import annotations

import datetime as dt
import hmac
import urllib.parse
from typing import Any

from jinja2 import Environment, PackageLoader, pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from memberbase.usecases.member_care import Staff

SESSION_COOKIE = "mb_console"
FORM_MAX = 64 * 1024
# Pages fetch nothing from anywhere: no script at all, styles inline, forms post to us only.
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@pass_context
def _local(context: Context, value: object) -> str:
    """A time in the org's time zone (a date as it is)."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    zone = context.get("zone") or dt.UTC
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


_ENV = Environment(loader=PackageLoader("memberbase", "templates/console"), autoescape=True)
_ENV.filters["local"] = _local


def page(name: str, status: int = 200, staff: Staff | None = None, **values: Any) -> HTMLResponse:
    zone = staff.org.zone if staff is not None else dt.UTC
    html = _ENV.get_template(name).render(staff=staff, zone=zone, **values)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def message(status: int, heading: str, text: str, staff: Staff | None = None, **link: str) -> HTMLResponse:
    return page("message.html", status, staff, heading=heading, text=text, **link)


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each); bounded in size."""
    body = await request.body()
    if len(body) > FORM_MAX:
        return {}
    pairs = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in pairs.items()}


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
