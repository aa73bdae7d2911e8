"""A flood of wrong passwords against `memberbase serve`, and a right till's calls meanwhile.

Starts `memberbase serve` (PostgreSQL, one process unless `--workers`), logs the bench till in
and registers one customer, then opens `--flood` connections at once, each sending one call
with a wrong password (for another till of the org, or for unknown tills), while `--clients`
connections of the right till keep reading that customer (`GET /v1.1/customer/get`). Prints
the flood's answers by status, the server's resident memory before the flood and at its peak
(VmHWM, summed over its processes), and the right till's latency meanwhile.

    python3 bench/auth_flood.py                      # 200 distinct guesses at one till
    python3 bench/auth_flood.py --mode strangers     # 200 unknown tills, one guess each
    python3 bench/auth_flood.py --mode same          # one wrong password, 200 times at once
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from common import DEFAULT_ADMIN_URL, fresh_database, percentile, run
from loadgen import LoadResult, _read_response, basic_auth, request_bytes
from register import AUTH, ORG_YAML, _free_port, start_server

GET = "/v1.1/customer/get?mobile=919000000001&format=json"
# The flood guesses at a till of its own: guessing at the right till's login would lock it out
# (as it should: see docs/ops.md), which is not what this measures.
VICTIM = "victim.till"
ORG = ORG_YAML.replace(
    "      - {code: bench.till, password: bench, store: Bench Store}\n",
    "      - {code: bench.till, password: bench, store: Bench Store}\n"
    f"      - {{code: {VICTIM}, password: victim, store: Bench Store}}\n",
)


def _rss_kib(pid: int, field: str) -> int:
    """VmRSS or VmHWM (peak) of `pid` and its children, in KiB."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of `pid` and its children so far."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _flood_auth(mode: str, n: int) -> str:
    if mode == "strangers":
        return basic_auth(f"no.such.till.{n}", "guess")
    if mode == "same":
        return basic_auth(VICTIM, "the-same-guess")
    return basic_auth(VICTIM, f"guess-{n}")


async def _flood(port: int, mode: str, count: int) -> tuple[dict[int, int], float]:
    """`count` connections opened first, then one wrong-password call on each, all at once."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    statuses: dict[int, int] = {}
    started = time.perf_counter()

    async def one(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(request_bytes("GET", GET, _flood_auth(mode, n)))
        status, _ = await _read_response(reader)
        statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    await asyncio.gather(*(one(n, r, w) for n, (r, w) in enumerate(connections)))
    return statuses, time.perf_counter() - started


async def _right_till(port: int, clients: int, done: asyncio.Event) -> LoadResult:
    result = LoadResult()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not done.is_set():
            started = time.perf_counter()
            writer.write(request_bytes("GET", GET, AUTH))
            status, _ = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            await asyncio.sleep(0.005)  # a till's pace, not a load test of its own
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return result


async def _measure(port: int, pid: int, mode: str, count: int, clients: int) -> None:
    rss_before = _rss_kib(pid, "VmRSS")
    done = asyncio.Event()
    right = asyncio.ensure_future(_right_till(port, clients, done))
    await asyncio.sleep(0.5)  # the right till's pace settles before the flood
    cpu_before = _cpu_seconds(pid)
    statuses, seconds = await _flood(port, mode, count)
    cpu = _cpu_seconds(pid) - cpu_before
    await asyncio.sleep(0.5)
    done.set()
    result = await right
    peak = _rss_kib(pid, "VmHWM")
    fives = sum(n for s, n in statuses.items() if s >= 500)
    print(f"flood: {count} wrong-password calls at once ({mode}), answered in {seconds:.2f} s")
    print(
        f"  statuses {dict(sorted(statuses.items()))}; 5xx: {fives}; server CPU {cpu:.2f} s (hashes included)"
    )
    print(f"  server RSS before {rss_before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, "
          f"growth {(peak - rss_before) / 1024:.0f} MiB")  # fmt: skip
    lat = [x * 1000 for x in result.latencies]
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    print(f"right till meanwhile: {len(lat)} calls, statuses {result.statuses}; "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lat):.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--mode", choices=["guesses", "strangers", "same"], default="guesses")
    parser.add_argument("--flood", type=int, default=200, help="wrong-password calls at once")
    parser.add_argument("--clients", type=int, default=2, help="the right till's connections")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    assert VICTIM in ORG
    url = fresh_database(args.postgres_url, "memberbase_bench_auth_flood")
    port = _free_port()
    # Failed-login counters of this run only (they live in Redis for five minutes).
    os.environ["MEMBERBASE_RATE_LIMIT_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(url, port, Path(workdir), args.workers, ORG)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": AUTH}
            added = httpx.post(
                f"{base}/v1.1/customer/add?format=json",
                json={"root": {"customer": [{"mobile": "919000000001", "firstname": "Bench"}]}},
                headers=headers,
            )
            assert added.status_code == 200, added.text
            for _ in range(20 * args.workers):  # every process has checked and keeps the login
                assert httpx.get(base + GET, headers=headers).status_code == 200
            run(_measure(port, server.pid, args.mode, args.flood, args.clients))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
