"""Updates of existing customers per second over HTTP, beside pgbench running the same rows.

Starts `memberbase serve` (PostgreSQL, a fresh database), registers the customers to
update (100 per request), then changes a name from N concurrent clients for each N
asked, through v1.1 customer/update and v2 PUT /v2/customers/{id}; then pgbench writes
the same rows in plain SQL (holder lookup, the row locked, the update, audit row, outbox
event) in the same run, and the ratios are printed last. `--idempotency` also measures
registrations with and without an Idempotency-Key.

    python bench/update.py --concurrency 1,4,16 --requests 3000
    python bench/update.py --idempotency --concurrency 16
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from common import fresh_database, production_workers, run
from loadgen import LoadResult, request_bytes, run_load
from pgbench import pgbench
from register import AUTH, ORG_YAML, _free_port, row, start_server

ORG = ORG_YAML.replace(
    '"GET /v2/customers/lookup": 0}',
    '"GET /v2/customers/lookup": 0,\n                   "POST /v1.1/customer/update": 0,'
    ' "PUT /v2/customers/{customer_id}": 0}',
)
ORG_ID = 90001

# The statements an update of one customer's name writes, as memberbase runs them.
UPDATE_SQL = """
\\set n random(0, :count - 1)
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('mobile:' || :n));
SELECT customer_id FROM identifiers WHERE org_id = 90001 AND type = 'mobile' AND value = '9190' || lpad(:n::text, 8, '0');
SELECT * FROM customers WHERE org_id = 90001 AND id = (SELECT customer_id FROM identifiers WHERE org_id = 90001 AND type = 'mobile' AND value = '9190' || lpad(:n::text, 8, '0')) FOR UPDATE;
UPDATE customers SET firstname = 'Name' || :n, updated_on = now(), version = version + 1 WHERE org_id = 90001 AND id = (SELECT customer_id FROM identifiers WHERE org_id = 90001 AND type = 'mobile' AND value = '9190' || lpad(:n::text, 8, '0'));
SELECT program_id FROM enrolments WHERE org_id = 90001 AND customer_id = 1;
INSERT INTO audit_log (org_id, id, customer_id, action, till_code, occurred_at, changes, request_id) VALUES (90001, gen_random_uuid()::text, 1, 'customer.updated', 'bench.till', now(), '{"firstname": {"from": "a", "to": "b"}}', 'r');
INSERT INTO outbox (org_id, id, event_id, customer_id, type, payload, occurred_at) VALUES (90001, nextval('outbox_id_seq'), gen_random_uuid()::text, 1, 'customer.updated', '{"changes": {}}', now());
END;
"""  # noqa: E501


def _customer(n: int) -> dict[str, Any]:
    return {"mobile": f"9190{n:08d}", "firstname": "Bench", "lastname": "Customer"}


def seed(port: int, count: int) -> None:
    """Register `count` customers, 100 a request."""

    def build(k: int) -> bytes:
        batch = [_customer(k * 100 + i) for i in range(100)]
        return request_bytes("POST", "/v1.1/customer/add", AUTH, {"root": {"customer": batch}})

    result = run(run_load(port, 4, (count + 99) // 100, 600, build))
    if result.failures:
        raise SystemExit(f"seeding failed: {result.sample[:300]!r}")


def updater(api: str, count: int, ids: dict[int, int], salt: str) -> Any:
    def build(n: int) -> bytes:
        k = n % count
        if api == "v11":
            item = {"mobile": f"9190{k:08d}", "firstname": f"{salt}{n}"}
            return request_bytes("POST", "/v1.1/customer/update", AUTH, {"root": {"customer": [item]}})
        body = {"profiles": [{"source": "INSTORE", "firstName": f"{salt}{n}"}]}
        return request_bytes("PUT", f"/v2/customers/{ids[k]}", AUTH, body)

    return build


def registrations(offset: int, keyed: bool) -> Any:
    def build(n: int) -> bytes:
        item = _customer(offset + n)
        headers = {"Idempotency-Key": f"bench-{offset + n}"} if keyed else None
        return request_bytes(
            "POST", "/v1.1/customer/add", AUTH, {"root": {"customer": [item]}}, headers=headers
        )

    return build


def measure(
    port: int, clients: int, requests: int, seconds: float, warm: Any, build: Any
) -> tuple[float, list[float]]:
    """Warm the server up at this concurrency, then the rate and latencies of `build`'s requests."""
    check(run(run_load(port, clients, clients * 3, 30, warm)))
    result = run(run_load(port, clients, requests, seconds, build))
    check(result)
    return len(result.latencies) / result.elapsed, result.latencies


def check(result: LoadResult) -> None:
    if result.failures:
        raise SystemExit(f"{result.failures} failed ({result.statuses}); sample: {result.sample[:300]!r}")
    json.loads(result.sample)


def _ids(database_url: str, count: int) -> dict[int, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT value, customer_id FROM identifiers WHERE org_id = %s AND type = 'mobile'", (ORG_ID,)
        ).fetchall()
    return {int(value[4:]): int(cid) for value, cid in rows if int(value[4:]) < count}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--requests", type=int, default=3000, help="requests per API and concurrency (bound)")
    parser.add_argument("--customers", type=int, default=5000, help="customers registered to be updated")
    parser.add_argument("--max-seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=production_workers())
    parser.add_argument("--idempotency", action="store_true", help="registrations with and without a key")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    database_url = fresh_database(args.postgres_url, "memberbase_bench_update")
    port = _free_port()
    rates: dict[tuple[str, int], tuple[float, list[float]]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(database_url, port, Path(workdir), args.workers, ORG)
        try:
            seed(port, args.customers)
            ids = _ids(database_url, args.customers)
            offset = args.customers
            for api in ("v11", "v2"):
                for clients in levels:
                    warm = updater(api, args.customers, ids, "warm")
                    build = updater(api, args.customers, ids, api)
                    rates[(api, clients)] = measure(
                        port, clients, args.requests, args.max_seconds, warm, build
                    )
            # Keyed and unkeyed runs alternate (A B B A, half the requests each) so that a
            # machine whose load drifts during the run weighs on both alike.
            for clients in levels if args.idempotency else ():
                for keyed in (False, True, True, False):
                    warm, build = registrations(offset, keyed), registrations(offset + clients * 3, keyed)
                    offset += clients * 3 + args.requests
                    name = "keyed" if keyed else "unkeyed"
                    rate, latencies = measure(
                        port, clients, args.requests // 2, args.max_seconds / 2, warm, build
                    )
                    seen_rate, seen = rates.get((name, clients), (0.0, []))
                    rates[(name, clients)] = (seen_rate + rate / 2, seen + latencies)
        finally:
            server.terminate()
            server.wait(timeout=30)
        seconds = max(5, int(args.max_seconds / 2))
        raw = {
            c: pgbench(database_url, UPDATE_SQL, c, seconds, {"count": str(args.customers)}) for c in levels
        }

    print(
        f"updates of existing customers over HTTP ({args.workers} server process(es)) vs pgbench, PostgreSQL"
    )
    print(f"{'':<10} {'clients':>7} {'updates/s':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for api in ("v11", "v2"):
        for clients in levels:
            print(row(api, clients, *rates[(api, clients)]))
            print(f"{'pgbench':<10} {clients:>7} {raw[clients]:>12.1f}")
            print(f"{'ratio':<10} {clients:>7} {rates[(api, clients)][0] / raw[clients]:>12.1%}")
    if args.idempotency:
        print("v1.1 registrations with and without an Idempotency-Key:")
        for clients in levels:
            plain, keyed = rates[("unkeyed", clients)][0], rates[("keyed", clients)][0]
            print(row("no key", clients, *rates[("unkeyed", clients)]))
            print(row("with key", clients, *rates[("keyed", clients)]))
            print(f"{'cost':<10} {clients:>7} {1 - keyed / plain:>12.1%}")


if __name__ == "__main__":
    main()
