"""Logging staff in and out of Member Care, and finding the staff user behind a request.

The session cookie holds a random 256-bit token (HttpOnly, SameSite=Strict, Path
/member-care, Secure over HTTPS); the server keeps only its hash, so logout and the idle
timeout end a session for every process at once, and a new token at each login means a
session can't be fixed. The login form has its own CSRF token (a cookie and a field that
must match); every other form carries the session's.
"""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from memberbase.auth.verification import Busy, LockedOut, SlowChecks
from memberbase.http.console.pages import SESSION_COOKIE, form_of, message, page, same
from memberbase.http.deps import services_of
from memberbase.usecases.member_care import Staff, log_in, log_out, session_of

router = APIRouter(prefix="/member-care", include_in_schema=False)
_LOGIN_CSRF = "mb_login_csrf"
_PATH = "/member-care"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _cookie(request: Request) -> tuple[int, str] | None:
    raw = request.cookies.get(SESSION_COOKIE, "")
    org, _, token = raw.partition(".")
    return (int(org), token) if org.isdigit() and len(org) <= 18 and token else None


async def current_staff(request: Request) -> Staff | None:
    found = _cookie(request)
    if found is None:
        return None
    return await session_of(services_of(request).engine, found[0], found[1], _now())


def to_login() -> Response:
    return RedirectResponse("/member-care/login", status_code=303)


def _login_page(
    request: Request, status: int = 200, flash: str | None = None, username: str = ""
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page("login.html", status, None, csrf=token, flash=flash, flash_bad=True, username=username)
    secure = request.url.scheme == "https"
    response.set_cookie(_LOGIN_CSRF, token, httponly=True, samesite="strict", path=_PATH, secure=secure)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await current_staff(request) is not None:
        return RedirectResponse("/member-care/ui/", status_code=303)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    if not same(form.get("csrf"), request.cookies.get(_LOGIN_CSRF, "")):
        return _login_page(request, 403, "The form had expired: please log in again.")
    username, password = form.get("username", "")[:100], form.get("password", "")[:1000]
    checks: SlowChecks = request.app.state.staff_checks
    try:
        session = await log_in(services_of(request).engine, checks, username, password, _now())
    except Busy as busy:
        response: Response = message(503, "Busy", "Too many logins at once: try again in a moment.")
        response.headers["Retry-After"] = str(busy.retry_after)
        return response
    except LockedOut as locked:
        locked_out = _login_page(request, 429, "Too many failed logins: wait a few minutes.", username)
        locked_out.headers["Retry-After"] = str(locked.verdict.reset_after)
        return locked_out
    if session is None:
        return _login_page(request, 401, "Wrong username or password.", username)
    response = RedirectResponse("/member-care/ui/", status_code=303)
    secure = request.url.scheme == "https"
    value = f"{session[0]}.{session[1]}"
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict", path=_PATH, secure=secure)
    response.delete_cookie(_LOGIN_CSRF, path=_PATH)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    staff = await current_staff(request)
    found = _cookie(request)
    if staff is not None and found is not None:
        form = await form_of(request)
        if not same(form.get("csrf"), staff.csrf):
            return message(403, "Refused", "The form had expired: reload the page and try again.", staff)
        await log_out(services_of(request).engine, found[0], found[1], _now())
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path=_PATH)
    return response
