"""What the bench scripts share: a fresh database, their common options, percentiles."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import psycopg

T = TypeVar("T")

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_load_arguments(parser: argparse.ArgumentParser, requests: int) -> None:
    default_admin = os.environ.get("MEMBERBASE_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
    parser.add_argument(
        "--postgres-url", default=default_admin, help="a database to connect to for CREATE DATABASE"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=requests, help="registrations to send (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=120, help="stop sending after this long")


def production_workers() -> int:
    """Server processes as production runs them: one per core (`memberbase serve --workers N`)."""
    return os.cpu_count() or 1


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `admin_url`; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a load generator on uvloop, the event loop the server runs on (plain asyncio where
    it is not installed). On a 2-core box the instrument's CPU is taken from what it measures:
    uvloop's ~20% less per request leaves more to the server, and to PostgreSQL for the raw
    SQL yardstick, whose client runs on it too."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
