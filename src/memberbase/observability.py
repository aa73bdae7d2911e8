"""Request tracing: one JSON log line per request carrying its id, and Prometheus metrics.

Logs never carry credentials: the access line has method, route, status, time,
request id and the org/till that authenticated, never headers or the query
string (which may hold identifiers).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

access_log = logging.getLogger("memberbase.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any `extra` fields."""

    # Record attributes that are not extra fields (uvicorn adds an ANSI-coloured copy of the message).
    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "asctime",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Records made inside a request carry its id even when formatted later.
        request_id = getattr(record, "request_id", None) or current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("memberbase", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # Every other library (nats, asyncpg, sqlalchemy, asyncio) logs through the root: in a
    # NATS outage 386 of 405 lines were its raw tracebacks. Warnings and worse, one JSON line
    # each, the traceback a field of it; Python's `warnings` go the same way.
    # (Root's level stays WARNING, Python's default; only an earlier JSON handler is replaced,
    # so a test's capture handler or an operator's own one survives.)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h.formatter, JsonFormatter)]
    root.addHandler(handler)
    logging.captureWarnings(True)


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_text(registry: CollectorRegistry) -> bytes:
    """The exposition of this process's metrics; under `serve --workers`, of every worker's
    (prometheus_client's multiprocess mode: each worker writes its values to files there)."""
    if not os.environ.get(METRICS_DIR_ENV):
        return generate_latest(registry)
    from prometheus_client import multiprocess

    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


class Metrics:
    """The service's metrics, in a registry of its own (one per app, so tests stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "memberbase_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "memberbase_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registrations = Counter(
            "memberbase_registrations",
            "Registration items by outcome",
            ["api", "outcome"],
            registry=self.registry,
        )
        # A bug's 500, apart from v1.1's documented 500 "all items failed": the one to alert on.
        self.unexpected = Counter(
            "memberbase_unexpected_errors",
            "Requests that ended in an unexpected error",
            registry=self.registry,
        )
        self.codes = Counter(
            "memberbase_result_codes",
            "Error and warning codes answered",
            ["api", "code"],
            registry=self.registry,
        )

    def record(self, api: str, outcome: str, codes: list[int]) -> None:
        """One registration item: its outcome (registered, updated, merged, failed) and codes answered."""
        self.registrations.labels(api, outcome).inc()
        for code in codes:
            self.codes.labels(api, str(code)).inc()

    def observe_request(self, method: str, route: str, status: int, started: float) -> None:
        # The label children, looked up once per (method, route, status): prometheus_client
        # validates and hashes the labels on every .labels() call (5 µs a request).
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)
