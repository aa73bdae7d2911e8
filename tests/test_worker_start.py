"""`serve --workers` on a busy machine: a health-check timeout that survives a slow start, and a
worker that answers its supervisor before it imports the application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app
from tests.test_cli import _free_port, child_environment


def _worker_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[int]:
    from memberbase.cli import workers as workers_module

    seen: list[int] = []
    monkeypatch.setattr(
        workers_module.SocketPerWorker,
        "run",
        lambda self: seen.append(self.config.timeout_worker_healthcheck),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMBERBASE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    with mock.patch.dict(os.environ):
        result = CliRunner().invoke(app, ["serve", "--port", str(_free_port()), "--workers", "2", *args])
    assert result.exit_code == 0, result.output
    return seen


def test_workers_get_30_seconds_to_answer_their_supervisor_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _worker_timeout(tmp_path, monkeypatch) == [30]


def test_the_health_check_timeout_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _worker_timeout(tmp_path, monkeypatch, "--worker-healthcheck-seconds", "90") == [90]
    monkeypatch.setenv("MEMBERBASE_WORKER_HEALTHCHECK_SECONDS", "45")
    assert _worker_timeout(tmp_path, monkeypatch) == [45]


def test_a_worker_can_answer_its_first_health_check_without_loading_the_app() -> None:
    # What a spawned worker unpickles before uvicorn starts its answering thread: the supervisor
    # and the config, whose protocol class is ours. The app (FastAPI, SQLAlchemy, pydantic: two
    # seconds on an idle 2-core box, many more on a loaded one) comes after.
    probe = (
        "import sys, pickle, uvicorn, uvicorn.supervisors.multiprocess\n"
        "from memberbase.http.head_limits import HeadLimitedProtocol\n"
        "target = 'memberbase.app:app_from_environment'\n"
        "config = uvicorn.Config(target, factory=True, http=HeadLimitedProtocol)\n"
        "data = pickle.dumps(config)\n"
        "heavy = ('sqlalchemy', 'fastapi', 'pydantic', 'memberbase.app')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=child_environment()
    )
    assert found.stdout.strip() == "[]"


def test_the_app_loads_redis_and_nats_clients_only_when_configured() -> None:
    # coredis (numpy and beartype under it) and the NATS client were a third of the app's
    # import, paid by every worker at start whether or not it had Redis or NATS to talk to.
    probe = "import sys, memberbase.app\nprint(sorted(m for m in ('coredis', 'nats') if m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=child_environment()
    )
    assert found.stdout.strip() == "[]"
