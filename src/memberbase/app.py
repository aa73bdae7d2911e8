"""The ASGI application: create_app(settings) builds it; nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from memberbase import __version__
from memberbase.auth.basic import BasicAuthenticator, OrgConfigCache
from memberbase.auth.login_cache import LoginCache
from memberbase.auth.oauth import OAuthService
from memberbase.auth.passwords import VerifiedSecrets
from memberbase.auth.signing_keys import signing_keys
from memberbase.auth.verification import HashGate, SlowChecks
from memberbase.domain.codes import Code, Codes
from memberbase.http import head_limits
from memberbase.http.audits import routes as audit_routes
from memberbase.http.console import actions as console_actions
from memberbase.http.console import sessions as console_sessions
from memberbase.http.console import ui as console_ui
from memberbase.http.deps import Services
from memberbase.http.docs import install_docs
from memberbase.http.errors import ApiError
from memberbase.http.fast_reads import FAST_READ_PATHS, FastReads
from memberbase.http.oauth import routes as oauth_routes
from memberbase.http.request_context import RequestIdMiddleware, request_id
from memberbase.http.responses import JsonResponse
from memberbase.http.v1_1 import routes as v1_1_routes
from memberbase.http.v1_1 import subscriptions as v1_1_subscriptions
from memberbase.http.v1_1.render import error_envelope
from memberbase.http.v1_1.xml import XmlResponse, wants_xml
from memberbase.http.v2 import identifiers as v2_identifiers
from memberbase.http.v2 import merges as v2_merges
from memberbase.http.v2 import requests as v2_requests
from memberbase.http.v2 import routes as v2_routes
from memberbase.http.v2 import status as v2_status
from memberbase.http.v2 import subscriptions as v2_subscriptions
from memberbase.http.v2 import updates as v2_updates
from memberbase.http.v2.render import error_body as v2_error_body
from memberbase.login_attempts import LoginAttempts
from memberbase.observability import Metrics, configure_logging, metrics_text
from memberbase.rate_limiter import RateLimiter
from memberbase.settings import Settings
from memberbase.storage.database import create_engine, is_sqlite
from memberbase.storage.idle_connections import IdleConnections
from memberbase.storage.lookups import customer_lookups
from memberbase.storage.notices import LOGIN_FAILED, NoticeListener

log = logging.getLogger("memberbase")

_HTTP_CODES: dict[int, Code] = {
    404: Codes.RESOURCE_NOT_FOUND,
    405: Codes.METHOD_NOT_ALLOWED,
    413: Codes.BODY_TOO_LARGE,
    415: Codes.UNSUPPORTED_MEDIA_TYPE,
}


def _render_error(
    request: Request, code: Code, message: str, http_status: int, headers: dict[str, str]
) -> Response:
    # Each API version answers in its own error shape; anything outside /v2 in the v1.1 envelope.
    if request.url.path.startswith("/v3/"):
        body = {"data": None, "errors": [{"code": code.code, "message": message}]}
        return JsonResponse(body, status_code=http_status, headers=headers)
    if request.url.path.startswith(("/v2/", "/api_gateway/")) or request.url.path == "/v2":
        return JsonResponse(v2_error_body(code, message), status_code=http_status, headers=headers)
    if wants_xml(request):
        return XmlResponse(error_envelope(code, message), status_code=http_status, headers=headers)
    return JsonResponse(error_envelope(code, message), status_code=http_status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _render_error(request, exc.code, exc.message, exc.http_status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, Codes.INPUT_INVALID)
        detail = f"{request.method} {request.url.path}" if exc.status_code in (404, 405) else str(exc.detail)
        return _render_error(
            request, code, f"{code.message}: {detail}", exc.status_code, dict(exc.headers or {})
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _render_error(
            request, Codes.INPUT_INVALID, f"{Codes.INPUT_INVALID.message}: {problems}", 400, {}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug: logged with its trace for the operator; the caller gets a 500 and the request id.
        log.exception(
            "unhandled error in %s %s", request.method, request.url.path, extra={"unexpected": True}
        )
        request.state.unexpected = True  # the access log and metrics tell it from a documented 500
        rid = request_id(request)
        message = f"Internal error; quote request id {rid} to your administrator"
        return _render_error(request, Codes.ALL_FAILED, message, 500, {})


def app_from_environment() -> FastAPI:
    """The factory each `serve --workers` process calls: settings from MEMBERBASE_* variables."""
    configure_logging()
    settings = Settings()
    # This process's HTTP protocol (serve's) takes its head limits from the same settings.
    head_limits.configure(settings.max_header_bytes, settings.max_headers)
    return create_app(settings)


def _start_publisher(
    settings: Settings, engine: AsyncEngine
) -> tuple[asyncio.Event, asyncio.Task[None] | None]:
    """With a NATS URL, this process also delivers the outbox (or stands by for another that does)."""
    stop = asyncio.Event()
    if settings.nats_url is None:
        return stop, None
    # Imported only here: the NATS client is a third of a second of every worker's start.
    from memberbase.broker.nats_sink import NatsSink, StreamSettings
    from memberbase.broker.publisher import OutboxPublisher

    sink = NatsSink(StreamSettings(settings.nats_url, settings.events_stream, settings.events_subject_prefix))

    async def run() -> None:
        try:
            await OutboxPublisher(engine, sink).run(stop)
        finally:
            await sink.close()

    return stop, asyncio.create_task(run(), name="outbox-publisher")


def _start_listener(
    engine: AsyncEngine, logins: LoginCache
) -> tuple[asyncio.Event, asyncio.Task[None] | None]:
    """On PostgreSQL, hear org reloads and failed logins from every process (see LoginCache)."""
    stop = asyncio.Event()
    if is_sqlite(engine):
        return stop, None

    def on_notice(channel: str, payload: str) -> None:
        if channel == LOGIN_FAILED and payload:
            logins.forget_login(payload)
        else:
            logins.forget_all()

    listener = NoticeListener(engine, on_notice, logins.set_live)
    return stop, asyncio.create_task(listener.run(stop), name="change-notices")


def _start_sweeper(
    settings: Settings, engine: AsyncEngine
) -> tuple[asyncio.Event, asyncio.Task[None] | None]:
    """On PostgreSQL, pooled connections unused for a while are closed (idle_connections.py)."""
    stop = asyncio.Event()
    if is_sqlite(engine) or settings.db_pool_idle_seconds == 0:
        return stop, None
    idle = IdleConnections(engine, settings.db_pool_idle_seconds)
    return stop, asyncio.create_task(idle.run(stop), name="idle-connections")


class _MemberbaseAPI(FastAPI):
    """FastAPI with request ids and the short way into the hot reads around its whole stack.

    Request ids and metrics wrap every answer, FastAPI's own error and body-limit layers
    included (a 500 carries its request id too); the short way skips those layers, since
    whatever its endpoints cannot answer goes the usual way, through all of them.
    """

    outermost: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.outermost is None else self.outermost(stack)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = signing_keys(settings)  # first: without a usable key nothing starts (SecretKeyProblem)
        engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        configs = OrgConfigCache()
        limiter = RateLimiter(settings.redis_url, settings.rate_limit_prefix)
        attempts = LoginAttempts(limiter.pool, settings.rate_limit_prefix)
        gate = HashGate(settings.password_checks_at_once, settings.password_checks_queued)
        allowed = settings.failed_logins_per_5_minutes
        till_checks = SlowChecks(gate, attempts, allowed, prefix="")
        authenticator = BasicAuthenticator(engine, configs, VerifiedSecrets(), till_checks)
        client_checks = SlowChecks(gate, attempts, allowed, prefix="client:")
        oauth = OAuthService(engine, configs, client_checks, keys)
        app.state.staff_checks = SlowChecks(gate, attempts, allowed, prefix="staff:")  # Member Care
        logins = LoginCache()
        app.state.services = Services(
            settings=settings,
            engine=engine,
            authenticator=authenticator,
            oauth=oauth,
            rate_limiter=limiter,
            login_attempts=attempts,
            logins=logins,
        )
        stop_publishing, publishing = _start_publisher(settings, engine)
        stop_listening, listening = _start_listener(engine, logins)
        stop_sweeping, sweeping = _start_sweeper(settings, engine)
        # Everything built so far lives as long as the process: keep it out of the
        # collector's full passes, which otherwise stall requests for tens of ms (p99).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            stop_publishing.set()
            stop_listening.set()
            stop_sweeping.set()
            for task in (publishing, listening, sweeping):
                if task is not None:
                    await task
            limiter.close()
            await customer_lookups(engine).aclose()
            await engine.dispose()

    app = _MemberbaseAPI(
        title="memberbase",
        version=__version__,
        summary="Self-hosted loyalty customer registry (v1.1 and v2 customer APIs)",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry bridge asks on every request whether a provider has been
        # configured; memberbase has its own metrics and request ids (/metrics, the access log).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # FastAPI's pages load their scripts from a CDN; install_docs serves them from the package.
        docs_url=None,
        redoc_url=None,
    )
    metrics = Metrics()
    app.state.metrics = metrics
    _install_error_handlers(app)
    install_docs(app)
    app.include_router(v1_1_routes.router)
    app.include_router(v2_routes.router)
    app.include_router(v2_status.router)
    app.include_router(v2_updates.router)
    app.include_router(v2_identifiers.router)
    app.include_router(v2_merges.router)
    app.include_router(v2_requests.router)
    app.include_router(v1_1_subscriptions.router)
    app.include_router(v2_subscriptions.router)
    app.include_router(audit_routes.router)
    app.include_router(oauth_routes.router)
    app.include_router(console_sessions.router)
    app.include_router(console_ui.router)
    app.include_router(console_actions.router)
    routes = [*v1_1_routes.router.routes, *v2_routes.router.routes]
    hot = [r for r in routes if getattr(r, "path", None) in FAST_READ_PATHS]
    assert len(hot) == len(FAST_READ_PATHS), "a fast read lost its route"
    app.outermost = lambda stack: RequestIdMiddleware(
        FastReads(stack, routes=hot), metrics=metrics, log_access=settings.access_log
    )

    @app.get("/health", tags=["ops"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics: requests, latency, registrations, codes")
    async def metrics_endpoint() -> Response:
        return Response(metrics_text(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
