"""Registrations per second over HTTP, against PostgreSQL, at a given concurrency.

Starts `memberbase serve` the way a user would (a subprocess, its own port on
127.0.0.1, a fresh database), registers new unique customers through
POST /v1.1/customer/add from N concurrent clients, and prints the figures as
the last lines. Bounded in requests and in time; talks only to 127.0.0.1.

    python bench/register.py --concurrency 16 --requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import add_load_arguments, fresh_database, percentile

ORG_YAML = """
orgs:
  - id: 90001
    name: Bench Retail
    base_country: IN
    timezone: Asia/Kolkata
    rate_limits:
      per_minute: {"POST /v1.1/customer/add": 0}   # 0: unlimited; the bench measures speed
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
"""
TILL = "bench.till"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_server(database_url: str, port: int, workdir: Path, workers: int) -> subprocess.Popen[bytes]:
    config = workdir / "bench-org.yaml"
    config.write_text(ORG_YAML)
    command = [
        sys.executable,
        "-m",
        "memberbase",
        "serve",
        "--config",
        str(config),
        "--database-url",
        database_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--workers",
        str(workers),
        "--redis-url",
        "redis://127.0.0.1:6379/0",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir)
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


async def _load(
    base: str, concurrency: int, requests: int, max_seconds: float
) -> tuple[list[float], int, float]:
    import hashlib

    auth = (TILL, hashlib.md5(b"bench", usedforsecurity=False).hexdigest())  # the hosted convention
    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))
    stop_at = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, auth=auth, limits=limits, timeout=30) as client:
        # Warm-up: one request to memoise the till's credentials and fill the pools.
        await client.post("/v1.1/customer/add", json={"root": {"customer": [{"mobile": "919000000000"}]}})

        async def worker() -> None:
            nonlocal failures
            for n in counter:
                if time.monotonic() > stop_at:
                    return
                body = {
                    "root": {
                        "customer": [
                            {
                                "mobile": f"9190{n:08d}",
                                "email": f"bench{n}@example.com",
                                "external_id": f"B{n}",
                                "firstname": "Bench",
                                "lastname": "Customer",
                            }
                        ]
                    }
                }
                started = time.perf_counter()
                response = await client.post("/v1.1/customer/add?format=json", json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_load_arguments(parser, requests=4000)
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (memberbase serve --workers)"
    )
    args = parser.parse_args()

    database_url = fresh_database(args.postgres_url, "memberbase_bench")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = _start_server(database_url, port, Path(workdir), args.workers)
        try:
            latencies, failures, elapsed = asyncio.run(
                _load(f"http://127.0.0.1:{port}", args.concurrency, args.requests, args.max_seconds)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    done = len(latencies)
    print(
        f"v1.1 single registrations over HTTP, PostgreSQL, {args.concurrency} concurrent clients,"
        f" {args.workers} server process(es)"
    )
    print(f"requests: {done}  failures: {failures}  elapsed: {elapsed:.2f} s")
    print(f"registrations/s: {done / elapsed:.1f}")
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"latency p50: {p50:.1f} ms  p99: {p99:.1f} ms")


if __name__ == "__main__":
    main()
