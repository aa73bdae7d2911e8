"""PostgreSQL's own client as the yardstick: run a pgbench script, return its rate.

`pgbench -M prepared` with a custom script of the statements memberbase runs for one
operation, against the bench's database, in the same run as the HTTP measurement: the
machine is shared and noisy, so only ratios measured together count.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")


def pgbench(
    url: str, script: str, clients: int, seconds: int, variables: dict[str, str] | None = None
) -> float:
    """Transactions per second of `script` at `clients` connections (`-j 2`), for `seconds`."""
    binary = shutil.which("pgbench")
    if binary is None:
        raise SystemExit("pgbench is not installed (Debian: postgresql-client)")
    parts = urlsplit(url)
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "operation.sql"
        path.write_text(script)
        command = [
            binary, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(2, clients)),
            "-T", str(seconds), "-f", str(path),
            "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
            "-U", parts.username or "postgres", parts.path.lstrip("/"),
        ]  # fmt: skip
        for name, value in (variables or {}).items():
            command += ["-D", f"{name}={value}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = _TPS.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"pgbench failed: {done.stderr.strip() or done.stdout.strip()}")
    return float(found.group(1))
