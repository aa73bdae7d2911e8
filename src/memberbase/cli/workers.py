"""`serve --workers N`: N server processes on one port, each accepting on a socket of its own.

uvicorn's multi-process mode shares one listening socket between its workers, and
whichever worker wakes first accepts every connection then waiting: a burst of
keep-alive clients (a store's tills reconnecting after a network blip, a bench's
clients) can all land on one worker while the other idles (seen with 16 connections:
16/0, 11/5, 7/9). Here each worker gets its own socket on the port, bound with
SO_REUSEPORT, and the kernel spreads new connections over them by their addresses.
uvicorn's supervisor still runs the processes (health checks, restarts, signals);
it only hands each worker its own socket. Where SO_REUSEPORT does not spread
connections (it does on Linux), uvicorn's shared socket is used as before.
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")


class PortInUse(OSError):
    pass


def spreads_connections() -> bool:
    """Whether the kernel balances connections over SO_REUSEPORT sockets (Linux does)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to host:port with SO_REUSEPORT, after checking nothing else holds
    the port (SO_REUSEPORT alone would let a second server share it silently)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        port = probe.getsockname()[1]  # port 0: the one the system picked, for every worker
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(_family(host), socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise PortInUse(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sockets


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor, with worker i always started on socket i (a restart too)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=sockets)
        self.processes_num = len(sockets)

    def _process(self, slot: int) -> Process:
        return Process(self.config, [self.sockets[slot]])

    def init_processes(self) -> None:
        for slot in range(self.processes_num):
            process = self._process(slot)
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """As uvicorn's: each replacement serves before its predecessor stops (SIGHUP)."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(slot)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                log.error("worker %s was not ready in time; keeping %s, restart aborted", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def keep_subprocess_alive(self) -> None:
        """As uvicorn's: a hung or dead worker is replaced, on its own socket; one that failed
        before serving stops the server (it would fail the same way again)."""
        for slot, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            log.info("worker %s died; starting another on its socket", process.pid)
            replacement = self._process(slot)
            replacement.start()
            self.processes[slot] = replacement
