"""Registrations per second over HTTP against PostgreSQL, beside the same work in plain SQL.

Starts `memberbase serve` as a user would (a subprocess on 127.0.0.1, a fresh
database, an org paying a welcome reward, events in the outbox), registers new
unique customers from N concurrent keep-alive clients for each N asked, then runs
bench/raw.py's plain-SQL registration at the same concurrencies in the same run
and prints both with their ratio as the last lines. Bounded in requests and time.

    python bench/register.py --api v11 --concurrency 1,4,16,32 --requests 3000
    python bench/register.py --api v11-batch --requests 60          # 100 customers per request
    python bench/register.py --api v2 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import fresh_database, percentile, production_workers, run
from loadgen import LoadResult, basic_auth, request_bytes, run_load
from raw import WARM_PER_CONNECTION, prepare, raw_load

ORG_YAML = """
orgs:
  - id: 90001
    name: Bench Retail
    base_country: IN
    timezone: Asia/Kolkata
    rate_limits:   # 0: unlimited; the bench measures speed
      per_minute: {"POST /v1.1/customer/add": 0, "POST /v2/customers": 0, "GET /v1.1/customer/get": 0,
                   "GET /v2/customers/lookup": 0}
    tills:
      - {code: bench.till, password: bench, store: Bench Store}
    custom_fields:
      - {name: City_name, max_length: 100}
    extended_fields: [gender, city]
    programs:
      - id: 1
        name: Bench Loyalty
        default: true
        tiers:
          - {serial: 1, name: Base}
          - {serial: 2, name: Silver}
        registration_rewards: [{id: WELCOME, points: 100}]
    customer_status_labels:
      - {label: Member, status: Active, default: true}
"""
AUTH = basic_auth("bench.till", "bench")
BATCH = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    database_url: str, port: int, workdir: Path, workers: int, config: str
) -> subprocess.Popen[bytes]:
    """`memberbase serve` with its org file, once it answers /health."""
    path = workdir / "bench-org.yaml"
    path.write_text(config)
    command = [
        sys.executable, "-m", "memberbase", "serve", "--config", str(path), "--database-url", database_url,
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--workers", str(workers),
        "--redis-url", "redis://127.0.0.1:6379/0",
    ]  # fmt: skip
    # A PostgreSQL server refuses to start without a signing key (docs/ops.md): one per run.
    env = {"MEMBERBASE_SECRET_KEY": secrets.token_urlsafe(48), **os.environ}
    if env.get("PYTHONPATH"):  # `PYTHONPATH=src` still names this checkout from the work directory
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep))
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.terminate()
    raise SystemExit("server did not become healthy within 60 s")


def _v11_customer(n: int) -> dict[str, Any]:
    return {
        "mobile": f"9190{n:08d}",
        "email": f"bench{n}@example.com",
        "external_id": f"B{n}",
        "firstname": "Bench",
        "lastname": "Customer",
    }


def make_request(api: str, offset: int) -> Any:
    def build(n: int) -> bytes:
        n += offset
        if api == "v11":
            return request_bytes(
                "POST", "/v1.1/customer/add", AUTH, {"root": {"customer": [_v11_customer(n)]}}
            )
        if api == "v11-batch":
            batch = [_v11_customer(n * BATCH + i) for i in range(BATCH)]
            return request_bytes("POST", "/v1.1/customer/add", AUTH, {"root": {"customer": batch}})
        identifiers = [
            {"type": "mobile", "value": f"9190{n:08d}"},
            {"type": "email", "value": f"bench{n}@example.com"},
            {"type": "externalId", "value": f"B{n}"},
        ]
        profile = {
            "firstName": "Bench",
            "lastName": "Customer",
            "identifiers": identifiers,
            "source": "INSTORE",
        }
        return request_bytes(
            "POST", "/v2/customers", AUTH, {"loyaltyInfo": {"loyaltyType": "loyalty"}, "profiles": [profile]}
        )

    return build


def check(api: str, result: LoadResult) -> None:
    """Fail loudly when the server answered with errors instead of registrations."""
    if result.failures:
        raise SystemExit(
            f"{result.failures} failed requests ({result.statuses}); sample: {result.sample[:300]!r}"
        )
    body = json.loads(result.sample)
    ok = "createdId" in body if api == "v2" else body["response"]["status"]["success_count"] != "0"
    if not ok:
        raise SystemExit(f"unexpected answer: {result.sample[:300]!r}")


def row(label: str, clients: int, per_s: float, latencies: list[float]) -> str:
    p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
    return f"{label:<10} {clients:>7} {per_s:>12.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--api", choices=["v11", "v11-batch", "v2"], default="v11")
    parser.add_argument("--concurrency", default="1,4,16,32", help="comma-separated client counts")
    parser.add_argument(
        "--requests", type=int, default=3000, help="HTTP requests per concurrency (upper bound)"
    )
    parser.add_argument("--max-seconds", type=float, default=60, help="per concurrency")
    parser.add_argument(
        "--workers",
        type=int,
        default=production_workers(),
        help="server processes (memberbase serve --workers); default one per core, as in production",
    )
    parser.add_argument("--no-raw", action="store_true", help="skip the plain-SQL yardstick")
    parser.add_argument(
        "--half-peak", action="store_true", help="then latency at half the best rate measured (16 clients)"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    per_request = BATCH if args.api == "v11-batch" else 1

    database_url = fresh_database(args.postgres_url, "memberbase_bench")
    port = _free_port()
    api_rows: dict[int, tuple[float, list[float]]] = {}
    half_peak: tuple[float, list[float]] = (0.0, [0.0])
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(database_url, port, Path(workdir), args.workers, ORG_YAML)
        try:
            offset = 0
            for clients in levels:
                # Warm-up at the same concurrency: the pool opens its connections and each
                # prepares its statements once, outside the measurement.
                warm = run(run_load(port, clients, clients * 3, 30, make_request(args.api, offset)))
                check(args.api, warm)
                offset += clients * 3
                result = run(
                    run_load(port, clients, args.requests, args.max_seconds, make_request(args.api, offset))
                )
                check(args.api, result)
                offset += args.requests
                api_rows[clients] = (len(result.latencies) * per_request / result.elapsed, result.latencies)
            if args.half_peak:
                half = max(r for r, _ in api_rows.values()) / 2 / per_request
                paced = run(
                    run_load(
                        port, 16, args.requests, args.max_seconds, make_request(args.api, offset), rate=half
                    )
                )
                check(args.api, paced)
                half_peak = (len(paced.latencies) * per_request / paced.elapsed, paced.latencies)
        finally:
            server.terminate()
            server.wait(timeout=30)
    raw_rows: dict[int, tuple[float, list[float]]] = {}
    if not args.no_raw:
        raw_url = prepare(args.postgres_url)
        first = 0
        for clients in levels:
            # As many customers as the API registered (a batch request carries 100).
            count = args.requests * per_request
            latencies, elapsed = run(raw_load(raw_url, clients, count, args.max_seconds, first))
            first += count + clients * WARM_PER_CONNECTION
            raw_rows[clients] = (len(latencies) / elapsed, latencies)

    unit = "customers/s"
    print(f"{args.api} registrations over HTTP ({args.workers} server process(es)) vs plain SQL, PostgreSQL")
    print(f"{'':<10} {'clients':>7} {unit:>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for clients in levels:
        print(row(args.api, clients, *api_rows[clients]))
        if clients in raw_rows:
            print(row("raw SQL", clients, *raw_rows[clients]))
            print(f"{'ratio':<10} {clients:>7} {api_rows[clients][0] / raw_rows[clients][0]:>12.1%}")
    if args.half_peak:
        print("at half the peak rate, 16 clients, paced:")
        print(row(args.api, 16, *half_peak))


if __name__ == "__main__":
    main()
