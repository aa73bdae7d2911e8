"""Lookups by identifier at a million customers: HTTP (v1.1 get, v2 lookup) against plain SQL.

Loads N customers (default 1,000,000: customer, three identifiers, profile,
enrolment) with COPY into a fresh PostgreSQL database, starts `memberbase serve`
on it, and asks for random existing customers by mobile from C keep-alive clients:
`GET /v1.1/customer/get?mobile=` and `GET /v2/customers/lookup`. Then runs the
lookup's SQL through asyncpg at the same concurrency. Prints rates, latencies and
ratios as the last lines. Bounded in requests and time; talks only to 127.0.0.1.

    python bench/lookup.py --customers 1000000 --concurrency 16 --requests 20000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import psycopg
from common import fresh_database, percentile, production_workers, run
from loadgen import LoadResult, basic_auth, request_bytes, run_load
from register import ORG_YAML, _free_port, start_server

from memberbase.storage.schema import upgrade

ORG_ID = 90001  # the org of register.py's file, which this bench serves
AUTH = basic_auth("bench.till", "bench")
LOOKUP_SQL = (
    "SELECT c.id, c.firstname, c.lastname, c.mobile, c.email, c.external_id FROM identifiers i"
    " JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id"
    " WHERE i.org_id = $1 AND i.type = 'mobile' AND i.value = $2"
)


def mobile(n: int) -> str:
    return f"9192{n:08d}"


def look_up_person(n: int) -> tuple[str, str, str]:
    """Customer n's first name, last name and email."""
    return "Look", f"Up{n}", f"look{n}@example.com"


def populate(
    url: str,
    customers: int,
    workdir: Path,
    person: Callable[[int], tuple[str, str, str]] = look_up_person,
    org_yaml: str = ORG_YAML,
) -> float:
    """Load the org as users do, then COPY the customers in; seconds taken by the COPY."""
    upgrade(url)
    org_file = workdir / "org.yaml"
    org_file.write_text(org_yaml)
    load = [sys.executable, "-m", "memberbase", "orgs", "load", str(org_file), "--database-url", url]
    subprocess.run(load, check=True, stdout=subprocess.DEVNULL)
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=36500)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY customers (org_id, id, firstname, lastname, mobile, email, external_id, type, source,"
                " account_id, fraud_status, registered_on, updated_on, registered_till, comm_channels,"
                " custom_fields, extended_fields) FROM STDIN"
            ) as copy:
                for n in range(1, customers + 1):
                    first, last, email = person(n)
                    copy.write_row(
                        (ORG_ID, n, first, last, mobile(n), email, f"L{n}", "LOYALTY",
                         "INSTORE", "", "NONE", now, now, "bench.till", "[]", "{}", "{}")
                    )  # fmt: skip
            with cur.copy("COPY identifiers (org_id, type, value, customer_id) FROM STDIN") as copy:
                for n in range(1, customers + 1):
                    copy.write_row((ORG_ID, "mobile", mobile(n), n))
                    copy.write_row((ORG_ID, "email", person(n)[2], n))
                    copy.write_row((ORG_ID, "external_id", f"L{n}", n))
            with cur.copy(
                "COPY profiles (org_id, customer_id, source, account_id, firstname, lastname, identifiers,"
                " comm_channels, fields, created_at, created_till) FROM STDIN"
            ) as copy:
                for n in range(1, customers + 1):
                    ids = json.dumps([{"type": "mobile", "value": mobile(n)}])
                    first, last, _ = person(n)
                    row = (ORG_ID, n, "INSTORE", "", first, last, ids, "[]", "{}", now, "bench.till")
                    copy.write_row(row)
            with cur.copy(
                "COPY enrolments (org_id, customer_id, program_id, tier_serial, tier_expires_on,"
                " loyalty_points, lifetime_points, enrolled_at) FROM STDIN"
            ) as copy:
                for n in range(1, customers + 1):
                    copy.write_row((ORG_ID, n, 1, 1, expires, 0, 0, now))
        conn.execute("SELECT setval('customer_id_seq', %s)", (customers + 1,))
        conn.commit()
    seconds = time.perf_counter() - started
    # Steady state before measuring: statistics, visibility map and a checkpoint, so the
    # HTTP runs (first) are not measured while the server writes out the load behind them.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    return seconds


def gets(customers: int, seed: int, v2: bool):  # type: ignore[no-untyped-def]
    picks = random.Random(seed)

    def build(_: int) -> bytes:
        value = mobile(picks.randint(1, customers))
        if v2:
            path = f"/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue={value}"
        else:
            path = f"/v1.1/customer/get?format=json&mobile={value}"
        return request_bytes("GET", path, AUTH)

    return build


async def raw_lookups(
    url: str, customers: int, concurrency: int, requests: int, max_seconds: float
) -> LoadResult:
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    result = LoadResult()
    counter = iter(range(requests))
    picks = random.Random(3)
    stop_at = time.monotonic() + max_seconds

    async def worker() -> None:
        async with pool.acquire() as conn:
            statement = await conn.prepare(LOOKUP_SQL)
            for _ in counter:
                if time.monotonic() > stop_at:
                    return
                started = time.perf_counter()
                await statement.fetchrow(ORG_ID, mobile(picks.randint(1, customers)))
                result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    await pool.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument(
        "--workers", type=int, default=production_workers(), help="server processes; default one per core"
    )
    args = parser.parse_args()

    url = fresh_database(args.postgres_url, "memberbase_bench_lookup")
    port = _free_port()
    results: dict[str, LoadResult] = {}
    with tempfile.TemporaryDirectory() as workdir:
        loaded = populate(url, args.customers, Path(workdir))
        server = start_server(url, port, Path(workdir), args.workers, ORG_YAML)
        try:
            for label, v2 in (("v1.1 get", False), ("v2 lookup", True)):
                # Warm-up at the measured concurrency, as register.py's: every server process
                # opens its pooled connections and prepares its statements before the clock runs.
                warm_requests = max(args.concurrency * 50, args.requests // 4)
                run(run_load(port, args.concurrency, warm_requests, 30, gets(args.customers, 1, v2)))
                result = run(
                    run_load(
                        port, args.concurrency, args.requests, args.max_seconds, gets(args.customers, 2, v2)
                    )
                )
                if result.failures:
                    raise SystemExit(f"{label}: {result.statuses}; sample {result.sample[:300]!r}")
                results[label] = result
        finally:
            server.terminate()
            server.wait(timeout=30)
    results["raw SQL"] = run(
        raw_lookups(url, args.customers, args.concurrency, args.requests, args.max_seconds)
    )
    raw_rate = len(results["raw SQL"].latencies) / results["raw SQL"].elapsed
    print(f"{args.customers:,} customers loaded with COPY in {loaded:.0f} s")
    print(f"lookups by mobile, {args.concurrency} clients, {args.workers} server process(es), PostgreSQL")
    print(f"{'':<10} {'lookups/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs raw':>8}")
    for label, result in results.items():
        rate = len(result.latencies) / result.elapsed
        p50, p95, p99 = (percentile(result.latencies, p) * 1000 for p in (50, 95, 99))
        print(f"{label:<10} {rate:>10.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {rate / raw_rate:>8.1%}")


if __name__ == "__main__":
    main()
