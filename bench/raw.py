"""The registration work of memberbase in plain SQL, as the yardstick for bench/register.py.

One transaction per new customer, the same rows memberbase writes for a v1.1
registration, one statement per round trip through asyncpg (no HTTP, no ORM):
advisory lock on the identifiers, owner lookup, customer row, three identifier
claims, profile, enrolment, welcome points (ledger row, balance), audit row, and
the two outbox events. bench/register.py runs it in the same run and prints the
ratios API/raw; alone it prints its own figures.

    python bench/raw.py --concurrency 16 --requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
import uuid

import asyncpg
from common import add_load_arguments, fresh_database, percentile, run

from memberbase.storage.schema import upgrade

ORG_ID = 90002

INSERT_CUSTOMER = """
INSERT INTO customers (org_id, id, firstname, lastname, mobile, email, external_id, type, source,
                       account_id, fraud_status, registered_on, updated_on, registered_till,
                       comm_channels, custom_fields, extended_fields)
VALUES ($1, nextval('customer_id_seq'), 'Bench', 'Customer', $2, $3, $4, 'LOYALTY',
        'INSTORE', '', 'NONE', $5, $5, 'bench.till', '[]', '{}', '{}')
RETURNING id
"""
INSERT_PROFILE = """
INSERT INTO profiles (org_id, customer_id, source, account_id, firstname, lastname, identifiers,
                      comm_channels, fields, created_at, created_till)
VALUES ($1, $2, 'INSTORE', '', 'Bench', 'Customer', $3::jsonb, '[]', '{}', $4, 'bench.till')
"""
INSERT_ENROLMENT = """
INSERT INTO enrolments (org_id, customer_id, program_id, tier_serial, tier_expires_on,
                        loyalty_points, lifetime_points, enrolled_at)
VALUES ($1, $2, 1, 1, $3, 0, 0, $3)
"""
INSERT_AUDIT = """
INSERT INTO audit_log (org_id, id, customer_id, action, till_code, occurred_at, changes, request_id)
VALUES ($1, $2, $3, 'customer.registered', 'bench.till', $4, $5::jsonb, $6)
"""


async def _setup(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        now = dt.datetime.now(dt.UTC)
        await conn.execute(
            "INSERT INTO orgs (id, name, config, version, updated_at) VALUES ($1, 'raw', '{}', 1, $2)",
            ORG_ID,
            now,
        )
    finally:
        await conn.close()


async def _register(conn: asyncpg.Connection, n: int) -> None:
    mobile, email, external = f"9191{n:08d}", f"raw{n}@example.com", f"R{n}"
    claims = [("email", email), ("external_id", external), ("mobile", mobile)]
    now = dt.datetime.now(dt.UTC)
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || k, 0)) FROM unnest($2::text[]) AS k",
            str(ORG_ID),
            [f"{t}:{v}" for t, v in claims],
        )
        # The pairs spelt out, as memberbase asks. An IN over unnest($2, $3) got, while the
        # fresh database's statistics lagged its growth, a generic plan reading every
        # identifier of the org: the yardstick slowed as it ran (285/s at 16 clients, not 400+).
        await conn.fetch(
            "SELECT customer_id FROM identifiers WHERE org_id = $1"
            " AND (type, value) IN (($2, $3), ($4, $5), ($6, $7))",
            ORG_ID,
            *(part for claim in claims for part in claim),
        )
        customer_id = await conn.fetchval(
            INSERT_CUSTOMER,
            ORG_ID,
            mobile,
            email,
            external,
            now,
        )
        await conn.executemany(
            "INSERT INTO identifiers (org_id, type, value, customer_id) VALUES ($1, $2, $3, $4)",
            [(ORG_ID, t, v, customer_id) for t, v in claims],
        )
        await conn.execute(
            INSERT_PROFILE,
            ORG_ID,
            customer_id,
            json.dumps([{"type": "mobile", "value": mobile}]),
            now,
        )
        await conn.execute(
            INSERT_ENROLMENT,
            ORG_ID,
            customer_id,
            now,
        )
        await conn.execute(
            "INSERT INTO reward_ledger (org_id, entry_key, customer_id, kind, program_id, rule_id,"
            " raw_value, value, is_referrer, awarded_at)"
            " VALUES ($1, $2, $3, 'points', 1, 'WELCOME', 100, 100, false, $4)",
            ORG_ID,
            f"WELCOME:{customer_id}:{customer_id}",
            customer_id,
            now,
        )
        await conn.execute(
            "UPDATE enrolments SET loyalty_points = loyalty_points + 100,"
            " lifetime_points = lifetime_points + 100"
            " WHERE org_id = $1 AND customer_id = $2 AND program_id = 1",
            ORG_ID,
            customer_id,
        )
        await conn.executemany(
            "INSERT INTO outbox (org_id, id, event_id, customer_id, type, payload, occurred_at)"
            " VALUES ($1, nextval('outbox_id_seq'), $2, $3, $4, $5::jsonb, $6)",
            [
                (ORG_ID, str(uuid.uuid4()), customer_id, kind, json.dumps({"mobile": mobile}), now)
                for kind in ("customer.registered", "points.awarded")
            ],
        )
        await conn.execute(
            INSERT_AUDIT,
            ORG_ID,
            str(uuid.uuid4()),
            customer_id,
            now,
            json.dumps({"mobile": mobile}),
            uuid.uuid4().hex,
        )


# Registrations each connection makes before the clock starts, as the HTTP side's warm-up:
# its first statements are prepared then, not measured (a fresh pool of 16 measured from
# its first request ran at half its steady rate).
WARM_PER_CONNECTION = 3


async def raw_load(
    url: str, concurrency: int, requests: int, max_seconds: float, first: int = 0
) -> tuple[list[float], float]:
    """`requests` measured registrations, numbered from `first`; the warm-up's follow them
    (`requests + concurrency * WARM_PER_CONNECTION` numbers taken in all)."""
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    counter = iter(range(first, first + requests))
    warm_numbers = iter(range(first + requests, first + requests + concurrency * WARM_PER_CONNECTION))
    warmed = asyncio.Barrier(concurrency + 1)
    stop_at = time.monotonic() + max_seconds

    async def worker() -> None:
        async with pool.acquire() as conn:
            for _ in range(WARM_PER_CONNECTION):
                await _register(conn, next(warm_numbers))
            await warmed.wait()
            for n in counter:
                if time.monotonic() > stop_at:
                    return
                started = time.perf_counter()
                await _register(conn, n)
                latencies.append(time.perf_counter() - started)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await warmed.wait()
    stop_at = time.monotonic() + max_seconds
    started = time.perf_counter()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    await pool.close()
    return latencies, elapsed


def prepare(admin_url: str) -> str:
    """A fresh database with the schema and the raw org; its URL."""
    url = fresh_database(admin_url, "memberbase_raw")
    upgrade(url)
    run(_setup(url))
    return url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_load_arguments(parser, requests=4000)
    args = parser.parse_args()

    url = prepare(args.postgres_url)
    latencies, elapsed = run(raw_load(url, args.concurrency, args.requests, args.max_seconds))
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"raw SQL registrations (asyncpg, one statement per round trip), {args.concurrency} connections")
    print(f"requests: {len(latencies)}  elapsed: {elapsed:.2f} s")
    print(f"registrations/s: {len(latencies) / elapsed:.1f}")
    print(f"latency p50: {p50:.1f} ms  p99: {p99:.1f} ms")


if __name__ == "__main__":
    main()
