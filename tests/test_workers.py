"""`serve --workers N`: a listening socket per worker on one port, and a clear error when it is taken."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from memberbase.cli.workers import PortInUse, listening_sockets, spreads_connections
from tests.test_cli import DEMO_AUTH, _serve

linux_only = pytest.mark.skipif(not spreads_connections(), reason="SO_REUSEPORT spreads connections on Linux")


@linux_only
def test_each_worker_gets_its_own_socket_on_one_port() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(sockets) == 3
        assert len(ports) == 1  # port 0: the system's pick, shared by all
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        assert all(s.get_inheritable() for s in sockets)
    finally:
        for s in sockets:
            s.close()


@linux_only
def test_a_port_another_server_holds_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(PortInUse, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_sockets("127.0.0.1", port, 2)


def _listening(port: int) -> int:
    """Sockets listening on the port, from the kernel's table (state 0A: LISTEN)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for r in rows if r.split()[1].endswith(f":{port:04X}") and r.split()[3] == "0A")


@linux_only
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_two_workers_listen_apart_and_both_take_connections(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path, "--workers", "2", "--no-access-log")
    try:
        deadline = time.monotonic() + 20  # /health answered: one worker is up, the other may follow
        while _listening(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _listening(port) == 2
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        workers = [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2
        before = {w: _sockets(w) for w in workers}
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=DEMO_AUTH) for _ in range(32)]
        try:
            for client in clients:
                assert client.get("/health").status_code == 200
            gained = {w: _sockets(w) - before[w] for w in workers}
        finally:
            for client in clients:
                client.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    # 32 connections hashed over two sockets: each worker takes some (fewer than 4: p < 1e-5).
    assert all(n >= 4 for n in gained.values()), gained


def _sockets(pid: str) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += fd.readlink().name.startswith("socket:")
        except OSError:
            continue  # closed while we looked
    return count


@linux_only
def test_metrics_under_two_workers_count_every_workers_requests(tmp_path: Path) -> None:
    """Issue 21 (8): under --workers, /metrics reports all workers together, whichever answers."""
    proc, port = _serve(tmp_path, "--workers", "2", "--no-access-log")
    try:
        deadline = time.monotonic() + 20
        while _listening(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=DEMO_AUTH) for _ in range(16)]
        try:
            for client in clients:  # 16 connections: both workers take some (see the test above)
                assert client.get("/v1.1/customer/get", params={"mobile": "919800000001"}).status_code
            totals = []
            for client in clients[:6]:  # six reads: both workers answer /metrics at least once
                text = client.get("/metrics").text
                totals.append(_counted(text, "/v1.1/customer/get"))
        finally:
            for client in clients:
                client.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert totals == [16.0] * 6, totals


def _counted(text: str, route: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("memberbase_http_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
