"""Customer search at a million customers: HTTP against the search's own SQL under pgbench.

Loads N customers (default 1,000,000) as bench/lookup.py does (customer, three identifiers,
profile, enrolment, with COPY), their names drawn from 80 first and 400 last names; starts
`memberbase serve` on it; sends `GET /v2/customers/search?q=` from C keep-alive clients,
a fixed mix of queries over random customers (see QUERY_MIX); then runs the statement the
server runs for them, in its transaction with its planner settings, with
`pgbench -M prepared -c C -j 2` over the same queries. Prints rates, latencies and the
ratio as the last lines. Bounded in requests and time; talks only to 127.0.0.1.

    python bench/search.py --customers 1000000 --concurrency 16 --requests 20000
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg
import yaml
from common import fresh_database, percentile, production_workers, run
from loadgen import LoadResult, basic_auth, request_bytes, run_load
from lookup import ORG_ID, mobile, populate
from register import ORG_YAML, _free_port, start_server

from memberbase.domain.org_config import OrgFile
from memberbase.domain.search import DEFAULT_LIMIT, SearchQuery, mobile_prefixes
from memberbase.storage.search import PLANNER_SETTINGS, statement_sql

AUTH = basic_auth("bench.till", "bench")
LIMITED = '"GET /v2/customers/lookup": 0}'
assert LIMITED in ORG_YAML
SEARCH_ORG_YAML = ORG_YAML.replace(LIMITED, '"GET /v2/customers/lookup": 0, "GET /v2/customers/search": 0}')
ORG = OrgFile.model_validate(yaml.safe_load(SEARCH_ORG_YAML)).orgs[0]

FIRST = [
    "Aarav", "Aditi", "Ahmed", "Aisha", "Alex", "Alice", "Amit", "Ana", "Andrea", "Anna", "Arjun",
    "Ben", "Carlos", "Chen", "Chloe", "Daniel", "David", "Deepa", "Elena", "Emma", "Ethan", "Fatima",
    "Grace", "Hana", "Hiro", "Ines", "Isaac", "Ivan", "Jack", "Jia", "John", "Jose", "Julia", "Karan",
    "Kavya", "Kim", "Lara", "Leo", "Li", "Lucas", "Maria", "Mark", "Maya", "Mei", "Mia", "Mohammed",
    "Nadia", "Neha", "Nina", "Noah", "Omar", "Priya", "Rahul", "Ravi", "Rosa", "Sam", "Sara", "Sofia",
    "Sunil", "Tara", "Tom", "Uma", "Vijay", "Wei", "Yusuf", "Zara", "Zoe", "Olga", "Pablo", "Quinn",
    "Ruth", "Sean", "Tanvi", "Umar", "Vera", "Wang", "Xin", "Yara", "Zain",
]  # fmt: skip
_STEMS = ["Al", "Bar", "Car", "Dal", "Ed", "Fer", "Gar", "Hal", "Ing", "Jan", "Kel", "Lar", "Mar", "Nor",
          "Ost", "Par", "Quin", "Ros", "Sal", "Tor"]  # fmt: skip
_ENDINGS = ["son", "ley", "ton", "man", "er", "ford", "well", "by", "wood", "ski", "ez", "ini", "ard", "ov",
            "sen", "berg", "ham", "ing", "ett", "o"]  # fmt: skip
LAST = [stem + ending for stem in _STEMS for ending in _ENDINGS]


def person(n: int) -> tuple[str, str, str]:
    """Customer n's names and email, spread over the lists (a multiplicative hash of n)."""
    h = n * 2654435761 % 2**32
    first, last = FIRST[h % len(FIRST)], LAST[h // len(FIRST) % len(LAST)]
    return first, last, f"{first}.{last}{n}@example.com".lower()


# What tills type, by share: mostly selective (a number, an email, a full name), some broad
# (a first name's first letters match ~1.3% of a million customers: the window fills).
QUERY_MIX: list[tuple[str, int]] = [
    ("mobile, 8 national digits (~100 match)", 25),
    ("mobile, all 10 national digits", 15),
    ("email up to the @", 15),
    ("external id", 10),
    ("'first last', last name cut to 3 letters", 15),
    ("last name, 4 letters (~4,000 match)", 10),
    ("first name, 3 letters (the window fills)", 10),
]


def _query(kind: int, n: int) -> str:
    first, last, email = person(n)
    national = mobile(n)[2:]
    return [
        lambda: national[:8],
        lambda: national,
        lambda: email.split("@")[0],
        lambda: f"L{n}",
        lambda: f"{first} {last[:3]}",
        lambda: last[:4],
        lambda: first[:3],
    ][kind]()


def queries(customers: int, count: int, seed: int) -> list[str]:
    picks = random.Random(seed)
    kinds = picks.choices(range(len(QUERY_MIX)), weights=[w for _, w in QUERY_MIX], k=count)
    return [_query(kind, picks.randint(1, customers)) for kind in kinds]


def searches(asked: list[str]):  # type: ignore[no-untyped-def]
    def build(n: int) -> bytes:
        path = "/v2/customers/search?" + urllib.parse.urlencode({"q": asked[n % len(asked)]})
        return request_bytes("GET", path, AUTH)

    return build


def _pgbench_scripts(url: str, asked: list[str], workdir: Path) -> list[str]:
    """Weighted pgbench scripts, one per statement shape (0 or 1 mobile prefix), each
    picking a query from a table of the same queries: `-f script@weight` arguments."""
    by_shape: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    for q in asked:
        mobiles = mobile_prefixes(q, ORG)
        by_shape.setdefault(len(mobiles), []).append((q, mobiles))
    settings = ", ".join(f"set_config('{k}', '{v}', true)" for k, v in PLANNER_SETTINGS.items())
    args = []
    with psycopg.connect(url, autocommit=True) as conn:
        for shape, rows in by_shape.items():
            table = f"bench_search_queries_{shape}"
            columns = ", ".join(["q text", *(f"mobile_{m} text" for m in range(shape))])
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, {columns})")
            with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                for i, (q, mobiles) in enumerate(rows, start=1):
                    copy.write_row((i, q, *mobiles))
            names = ", ".join(["q", *(f"mobile_{m}" for m in range(shape))])
            script = workdir / f"search_{shape}.sql"
            script.write_text(
                f"\\set i random(1, {len(rows)})\n"
                f"SELECT {names} FROM {table} WHERE id = :i \\gset\n"
                f"BEGIN;\nSELECT {settings};\n{statement_sql(shape, postgres=True)};\nEND;\n"
            )
            args += ["-f", f"{script}@{len(rows)}"]
    return args


def pgbench(
    url: str, args: list[str], concurrency: int, seconds: float, logs: Path | None, rate: float | None = None
) -> LoadResult:
    """pgbench's run; with `rate`, throttled to it (`-R`: latency from each transaction's schedule)."""
    window = SearchQuery("", (), 0, DEFAULT_LIMIT).window  # as the API's first pages
    defines = {"org_id": ORG_ID, "window": window, "limit": DEFAULT_LIMIT, "offset": 0, "program_id": 1}
    parsed = urllib.parse.urlparse(url)
    command = [
        "pgbench", "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
        "-U", parsed.username or "postgres", "-n", "-M", "prepared", "-c", str(concurrency), "-j", "2",
        "-T", str(max(1, round(seconds))), *(f"-D{k}={v}" for k, v in defines.items()), *args,
    ]  # fmt: skip
    if logs is not None:
        for old in logs.glob("pgbench*"):
            old.unlink()
        command += ["-l", f"--log-prefix={logs / 'pgbench'}"]
    if rate is not None:
        command += ["-R", f"{rate:.1f}"]
    started = time.perf_counter()
    done = subprocess.run([*command, parsed.path.lstrip("/")], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "number of failed transactions: 0 " not in done.stdout:
        raise SystemExit(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    result = LoadResult(elapsed=elapsed)
    if logs is not None:
        for log in logs.glob("pgbench*"):
            for line in log.read_text().splitlines():
                result.latencies.append(int(line.split()[2]) / 1e6)
        for line in done.stdout.splitlines():
            if line.startswith("tps = "):
                # pgbench's own rate: transactions over its measured time, connections excluded
                result.elapsed = len(result.latencies) / float(line.split()[2])
    return result


def _loaded(url: str, customers: int) -> bool:
    try:
        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT count(*) FROM customers WHERE org_id = %s", (ORG_ID,)).fetchone()
    except psycopg.Error:
        return False
    return found is not None and found[0] == customers


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
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench database when it holds --customers already"
    )
    args = parser.parse_args()

    url = args.postgres_url.rsplit("/", 1)[0] + "/memberbase_bench_search"
    reuse = args.reuse and _loaded(url, args.customers)
    if not reuse:
        url = fresh_database(args.postgres_url, "memberbase_bench_search")
    port = _free_port()
    asked = queries(args.customers, 10_000, seed=2)
    with tempfile.TemporaryDirectory() as workdir:
        loaded = None if reuse else populate(url, args.customers, Path(workdir), person, SEARCH_ORG_YAML)
        server = start_server(url, port, Path(workdir), args.workers, SEARCH_ORG_YAML)
        try:
            # Warm-up at the measured concurrency, on other queries than the measured run's.
            warm = queries(args.customers, max(args.concurrency * 50, args.requests // 4), seed=1)
            run(run_load(port, args.concurrency, len(warm), 30, searches(warm)))
            api = run(run_load(port, args.concurrency, args.requests, args.max_seconds, searches(asked)))
            # Latency at a load the server sustains: half its peak, an open load (as register.py).
            half = len(api.latencies) / api.elapsed / 2
            paced = run(
                run_load(port, args.concurrency, round(half * args.max_seconds / 2), args.max_seconds,
                         searches(asked), rate=half)
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
        for result in (api, paced):
            if result.failures:
                raise SystemExit(f"search: {result.statuses}; sample {result.sample[:300]!r}")
        scripts = _pgbench_scripts(url, asked, Path(workdir))
        pgbench(url, scripts, args.concurrency, 5, None)  # warm-up: connections prepare and plan
        logs = Path(workdir) / "logs"
        logs.mkdir()
        raw = pgbench(url, scripts, args.concurrency, min(args.max_seconds, api.elapsed), logs)
        raw_paced = pgbench(url, scripts, args.concurrency, args.max_seconds / 2, logs, rate=half)
    raw_rate = len(raw.latencies) / raw.elapsed
    how = "reused" if loaded is None else f"loaded with COPY in {loaded:.0f} s"
    print(f"{args.customers:,} customers {how}")
    print(f"an answer: {api.sample[:200]!r}")
    print(f"searches, {args.concurrency} clients, {args.workers} server process(es), PostgreSQL; mix:")
    for kind, share in QUERY_MIX:
        print(f"  {share:>3}% {kind}")
    print(f"{'':<28} {'searches/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs raw':>8}")
    rows = [
        ("API, peak", api, raw_rate),
        ("raw pgbench, peak", raw, raw_rate),
        (f"API at {half:.0f}/s (half its peak)", paced, None),
        (f"raw pgbench at {half:.0f}/s", raw_paced, None),
    ]
    for label, result, versus in rows:
        rate = len(result.latencies) / result.elapsed
        p50, p95, p99 = (percentile(result.latencies, p) * 1000 for p in (50, 95, 99))
        ratio = f"{rate / versus:>8.1%}" if versus else ""
        print(f"{label:<28} {rate:>10.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {ratio}")


if __name__ == "__main__":
    main()
