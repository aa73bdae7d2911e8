"""Member Care's server time: the customer page and the dashboard at a million customers.

Loads N customers (default 1,000,000) with COPY as bench/lookup.py does, gives one of them
`--ledger` ledger entries (200) and `--audit` audit rows (100), and spreads the others'
registrations over the last 30 days; starts `memberbase serve` (one process, PostgreSQL),
logs a staff user in, then reads that customer's page and the dashboard one request at a
time and prints p50/p95/p99 of each (the time from request to whole page over loopback:
the server's time plus a loopback round trip). Targets (issue 18): customer page < 50 ms,
dashboard < 300 ms.

    python bench/console.py --customers 1000000 --requests 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from common import fresh_database, percentile
from lookup import ORG_ID, populate
from register import ORG_YAML, _free_port, start_server

STAFF = "bench.admin"
PASSWORD = "bench-admin-123"
_STAFF_YAML = f"    staff:\n      - {{username: {STAFF}, password: {PASSWORD}, role: admin}}\n"
ORG = ORG_YAML.replace("    tills:\n", _STAFF_YAML + "    tills:\n", 1)


def history(url: str, customers: int, ledger: int, audit: int) -> None:
    """Customer 1's ledger and audit rows; everyone's registrations spread over 30 days."""
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY reward_ledger (org_id, entry_key, customer_id, kind, program_id, rule_id, raw_value,"
                " value, is_referrer, awarded_at) FROM STDIN"
            ) as copy:
                for n in range(ledger):
                    when = now - dt.timedelta(hours=n)
                    copy.write_row((ORG_ID, f"bench:{n}", 1, "points", 1, "BENCH", 10, 10, False, when))
            with cur.copy(
                "COPY audit_log (org_id, id, customer_id, action, till_code, occurred_at, changes,"
                " request_id) FROM STDIN"
            ) as copy:
                for n in range(audit):
                    when = now - dt.timedelta(hours=n)
                    change = '{"firstname": {"from": "Ann", "to": "Anne"}}'  # as an update writes it
                    row = (ORG_ID, str(uuid.uuid4()), 1, "customer.updated", "bench.till", when, change, "r")
                    copy.write_row(row)
        spread = "UPDATE customers SET registered_on = now() - ((id %% 30) || ' days')::interval"
        conn.execute(spread + " WHERE org_id = %s", (ORG_ID,))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def timed(client: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(5):  # warm: the process's statements prepared, its pool open
        client.get(path).raise_for_status()
    spent = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=int, default=200)
    parser.add_argument("--audit", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = fresh_database(args.postgres_url, "memberbase_bench_console")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        loaded = populate(url, args.customers, Path(workdir), org_yaml=ORG)
        history(url, args.customers, args.ledger, args.audit)
        server = start_server(url, port, Path(workdir), 1, ORG)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                form = client.get("/member-care/login").text
                token = re.search(r'name="csrf" value="([^"]+)"', form)
                assert token is not None
                login = {"csrf": token.group(1), "username": STAFF, "password": PASSWORD}
                logged = client.post("/member-care/login", data=login)
                assert logged.status_code == 303, logged.text[:300]
                page = timed(client, "/member-care/ui/customer/1", args.requests)
                board = timed(client, "/member-care/ui/", max(20, args.requests // 10))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.customers:,} customers loaded with COPY in {loaded:.0f} s")
    print(f"{'page':<28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    customer = f"customer ({args.ledger} ledger, {args.audit} audit)"
    for label, spent in ((customer, page), ("dashboard", board)):
        p50, p95, p99 = (percentile(spent, p) for p in (50, 95, 99))
        print(f"{label:<28} {len(spent):>8} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
