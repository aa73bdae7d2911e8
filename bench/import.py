"""Bulk import speed and memory: `memberbase import` against the database's own COPY.

Writes a CSV of new unique customers, imports it with `memberbase import` (a child
process, as users run it) into a fresh PostgreSQL database whose org pays a welcome
reward, and measures rows/s and peak memory: the largest process's, and that of all the
import's processes together (it spawns helpers; proportional set size, so the libraries
they share count once), sampled from /proc. Then loads the same rows
(customer, three identifiers, profile, enrolment, ledger row) into another fresh,
indexed database with COPY: the yardstick. Prints both and the ratio.

    python bench/import.py --rows 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from common import DEFAULT_ADMIN_URL, fresh_database

from memberbase.storage.schema import upgrade

ORG_ID = 90003
ORG_YAML = f"""
orgs:
  - id: {ORG_ID}
    name: Import bench
    base_country: IN
    timezone: Asia/Kolkata
    tills: [{{code: import.till, password: bench-secret}}]
    programs:
      - id: 1
        name: Bench Loyalty
        default: true
        tiers: [{{serial: 1, name: Base}}]
        registration_rewards: [{{id: WELCOME, points: 100}}]
"""


def customers(rows: int) -> Iterator[tuple[str, str, str, str, str]]:
    for n in range(rows):
        yield (f"9197{n:08d}", f"import{n}@example.com", f"EXT{n:09d}", f"First{n}", "Import")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("mobile,email,external_id,firstname,lastname\n")
        for row in customers(rows):
            out.write(",".join(row) + "\n")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return found


def _memory_mb(pid: int) -> tuple[float, float]:
    """(proportional set size now, peak resident set size) of a process in MB; zeros once it
    is gone. Proportional: the pages the import's processes share (libraries) counted once."""
    values = {"Pss:": 0.0, "VmHWM:": 0.0}
    for source in (f"/proc/{pid}/smaps_rollup", f"/proc/{pid}/status"):
        try:
            for line in Path(source).read_text().splitlines():
                key = line.split(maxsplit=1)[0] if line else ""
                if key in values:
                    values[key] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return values["Pss:"], values["VmHWM:"]


def run_import(url: str, csv_path: Path, batch: int) -> tuple[float, float, float]:
    """(seconds, peak RSS in MB of its largest process, peak RSS in MB of all its processes
    together) of `memberbase import`, sampled from /proc four times a second."""
    env = {**os.environ, "MEMBERBASE_DATABASE_URL": url, "COLUMNS": "120"}
    org_file = csv_path.with_name("org.yaml")
    org_file.write_text(ORG_YAML)
    subprocess.run([sys.executable, "-m", "memberbase", "orgs", "load", str(org_file)], env=env, check=True)
    command = [
        sys.executable,
        "-m",
        "memberbase",
        "import",
        str(csv_path),
        "--org",
        str(ORG_ID),
        "--batch-size",
        str(batch),
    ]
    started = time.perf_counter()
    largest = together = 0.0
    with subprocess.Popen(command, env=env) as child:
        while child.poll() is None:
            memory = [_memory_mb(p) for p in _tree(child.pid)]
            largest = max([largest, *(peak for _, peak in memory)])
            together = max(together, sum(now for now, _ in memory))
            time.sleep(0.25)
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"memberbase import failed ({child.returncode})")
    return seconds, largest, together


def raw_copy(url: str, rows: int) -> float:
    """Seconds to COPY the same rows into the indexed tables, in one transaction."""
    upgrade(url)
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=36500)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO orgs (id, name, config, version, updated_at) VALUES (%s, 'raw', '{}', 1, %s)",
            (ORG_ID, now),
        )
        conn.commit()
        started = time.perf_counter()
        first = conn.execute("SELECT setval('customer_id_seq', nextval('customer_id_seq') + %s)", (rows,))
        base = int(first.fetchone()[0]) - rows  # type: ignore[index]
        tables = {
            "customers": "org_id, id, firstname, lastname, mobile, email, external_id, type, source,"
            " account_id, fraud_status, registered_on, updated_on, registered_till, comm_channels,"
            " custom_fields, extended_fields",
            "identifiers": "org_id, type, value, customer_id",
            "profiles": "org_id, customer_id, source, account_id, firstname, lastname, identifiers,"
            " comm_channels, fields, created_at, created_till",
            "enrolments": "org_id, customer_id, program_id, tier_serial, tier_expires_on, loyalty_points,"
            " lifetime_points, enrolled_at",
            "reward_ledger": "org_id, entry_key, customer_id, kind, program_id, rule_id, raw_value, value,"
            " is_referrer, awarded_at",
        }
        with conn.cursor() as cur:
            for table, columns in tables.items():
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for i, (mobile, email, ext, first_name, last) in enumerate(customers(rows)):
                        cid = base + i + 1
                        if table == "customers":
                            copy.write_row(
                                (
                                    ORG_ID,
                                    cid,
                                    first_name,
                                    last,
                                    mobile,
                                    email,
                                    ext,
                                    "LOYALTY",
                                    "INSTORE",
                                    "",
                                    "NONE",
                                    now,
                                    now,
                                    "import.till",
                                    "[]",
                                    "{}",
                                    "{}",
                                )
                            )
                        elif table == "identifiers":
                            copy.write_row((ORG_ID, "mobile", mobile, cid))
                            copy.write_row((ORG_ID, "email", email, cid))
                            copy.write_row((ORG_ID, "external_id", ext, cid))
                        elif table == "profiles":
                            ids = json.dumps([{"type": "mobile", "value": mobile}])
                            copy.write_row(
                                (
                                    ORG_ID,
                                    cid,
                                    "INSTORE",
                                    "",
                                    first_name,
                                    last,
                                    ids,
                                    "[]",
                                    "{}",
                                    now,
                                    "import.till",
                                )
                            )
                        elif table == "enrolments":
                            copy.write_row((ORG_ID, cid, 1, 1, expires, 100, 100, now))
                        else:
                            copy.write_row(
                                (
                                    ORG_ID,
                                    f"WELCOME:{cid}:{cid}",
                                    cid,
                                    "points",
                                    1,
                                    "WELCOME",
                                    100,
                                    100,
                                    False,
                                    now,
                                )
                            )
        conn.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("MEMBERBASE_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "customers.csv"
        write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        url = fresh_database(args.postgres_url, "memberbase_bench_import")
        seconds, peak_mb, together_mb = run_import(url, csv_path, args.batch_size)
    raw_url = fresh_database(args.postgres_url, "memberbase_bench_import_raw")
    raw_seconds = raw_copy(raw_url, args.rows)
    api_rate, raw_rate = args.rows / seconds, args.rows / raw_seconds
    print(f"file: {args.rows:,} rows, {size_mb:.1f} MB CSV")
    print(
        f"memberbase import: {seconds:.1f} s, {api_rate:,.0f} customers/s, peak memory {peak_mb:.0f} MB"
        f" (largest process), {together_mb:.0f} MB (all its processes together, proportional set size)"
    )
    print(f"raw COPY (indexed tables): {raw_seconds:.1f} s, {raw_rate:,.0f} customers/s")
    print(f"ratio import/raw: {api_rate / raw_rate:.1%}")


if __name__ == "__main__":
    main()
