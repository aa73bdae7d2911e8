"""Merges and erasures per second over HTTP on PostgreSQL, with their latencies.

Starts `memberbase serve` on a fresh database, registers pairs of customers (each enrolled
with points), gives every customer `--ledger` extra ledger entries (1,000 by default, as a
long-standing member has), then merges each pair through `POST /v2/requests` with
`client_auto_approve=true` from 1 and 8 clients, and erases customers through CUSTOMER
DELETE requests. Prints rate and p50/p95/p99 latency; the issue's targets are a merge
under 100 ms and an erasure under 200 ms.

    python bench/merge.py --pairs 400 --ledger 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from common import fresh_database, production_workers, run
from loadgen import LoadResult, request_bytes, run_load
from register import AUTH, ORG_YAML, _free_port, row, start_server

ORG_ID = 90001
ORG = ORG_YAML.replace(
    "    tills:",
    "    configs: {CONF_ENABLE_PII_DELETION: true}\n"
    "    merges: {max_identifiers_per_customer: 1000, max_merges_per_customer: 1000}\n"
    "    tills:",
).replace('"GET /v2/customers/lookup": 0}', '"GET /v2/customers/lookup": 0, "POST /v2/requests": 0}')


def _register(n: int) -> bytes:
    profile = {
        "source": "INSTORE",
        "identifiers": [{"type": "mobile", "value": f"9191{n:08d}"}],
        "firstName": "M",
    }
    body = {"profiles": [profile], "loyaltyProgramEnrollments": [{"programId": 1, "loyaltyPoints": 100}]}
    return request_bytes("POST", "/v2/customers", AUTH, body)


def _ids(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT customer_id FROM identifiers WHERE org_id = %s AND type = 'mobile' ORDER BY value",
            (ORG_ID,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def _ledger(database_url: str, ids: list[int], per_customer: int) -> None:
    """Old points entries for every customer, written directly (registration is not measured here)."""
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY reward_ledger (org_id, entry_key, customer_id, kind, program_id, rule_id, raw_value, value,"
            " is_referrer, awarded_at) FROM STDIN"
        ) as copy:
            for customer_id in ids:
                for k in range(per_customer):
                    copy.write_row(
                        (ORG_ID, f"old:{customer_id}:{k}", customer_id, "points", 1, "OLD", 1, 1, False, now)
                    )
        conn.commit()


def _merge(pairs: list[tuple[int, int]]) -> Any:
    def build(n: int) -> bytes:
        survivor, victim = pairs[n]
        body = {"victimId": victim, "survivorId": survivor}
        return request_bytes("POST", "/v2/requests?client_auto_approve=true", AUTH, body)

    return build


def _erase(mobiles: list[str]) -> Any:
    def build(n: int) -> bytes:
        body = {
            "type": "CUSTOMER", "baseType": "DELETE", "source": "INSTORE",
            "identifierType": "mobile", "identifierValue": mobiles[n],
        }  # fmt: skip
        return request_bytes("POST", "/v2/requests?client_auto_approve=true", AUTH, body)

    return build


def _check(result: LoadResult) -> None:
    if result.failures:
        raise SystemExit(f"{result.failures} failed ({result.statuses}); sample: {result.sample[:300]!r}")
    if json.loads(result.sample).get("status") != "APPROVED":
        raise SystemExit(f"not carried out: {result.sample[:300]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pairs", type=int, default=400, help="pairs merged (split over the concurrencies)")
    parser.add_argument("--ledger", type=int, default=1000, help="ledger entries per customer")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--workers", type=int, default=production_workers())
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    database_url = fresh_database(args.postgres_url, "memberbase_bench_merge")
    port = _free_port()
    figures: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(database_url, port, Path(workdir), args.workers, ORG)
        try:
            customers = args.pairs * 2 + 200
            seeded = run(run_load(port, 8, customers, 600, _register))
            if seeded.failures:
                raise SystemExit(f"registration failed: {seeded.sample[:300]!r}")
            ids = _ids(database_url)
            _ledger(database_url, ids, args.ledger)
            pairs = [(ids[2 * i], ids[2 * i + 1]) for i in range(args.pairs)]
            share = args.pairs // len(levels)
            for k, clients in enumerate(levels):
                chunk = pairs[k * share : (k + 1) * share]
                result = run(run_load(port, clients, len(chunk), 300, _merge(chunk)))
                _check(result)
                figures.append(
                    row("merge", clients, len(result.latencies) / result.elapsed, result.latencies)
                )
            spare = [f"9191{n:08d}" for n in range(args.pairs * 2, customers)]
            for k, clients in enumerate(levels):
                chunk = spare[k * 100 : (k + 1) * 100]
                result = run(run_load(port, clients, len(chunk), 300, _erase(chunk)))
                _check(result)
                figures.append(
                    row("erasure", clients, len(result.latencies) / result.elapsed, result.latencies)
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"merges and erasures over HTTP ({args.workers} server processes), {args.ledger} ledger entries each"
    )
    print(f"{'':<10} {'clients':>7} {'per s':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for line in figures:
        print(line)


if __name__ == "__main__":
    main()
