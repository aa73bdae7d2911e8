"""serve warns when its pools may open more connections than the PostgreSQL server allows."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app
from memberbase.storage.capacity import ServerConnections, per_process, warning


def test_a_process_may_open_its_pool_the_overflow_and_a_listen_connection() -> None:
    assert per_process(20) == 31
    assert per_process(5) == 8


def test_the_warning_names_the_sum_and_the_limit() -> None:
    server = ServerConnections(max_connections=100, reserved=3, in_use=0)
    assert warning(server, workers=3, pool_size=20) is None  # 93 of 97
    too_many = warning(server, workers=4, pool_size=20)
    assert too_many is not None
    assert too_many.startswith("4 worker(s) x 31 connections (pool 20 + overflow 10 + 1 LISTEN) = 124")
    assert "allows (97: max_connections 100 less 3 reserved)" in too_many
    crowded = warning(ServerConnections(100, 3, in_use=40), workers=2, pool_size=20)
    assert crowded is not None
    assert "and 40 are open already" in crowded


def test_serve_warns_at_start_when_its_pools_exceed_max_connections(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from memberbase.cli import workers as workers_module
    from tests.test_cli import _free_port

    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_kw: None)
    monkeypatch.setattr(workers_module.SocketPerWorker, "run", lambda _self: None)
    monkeypatch.chdir(tmp_path)
    args = ["serve", "--database-url", database_url, "--port", str(_free_port()), "--workers", "8"]
    with mock.patch.dict(os.environ):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    if database_url.startswith("sqlite"):
        assert "max_connections" not in said
    else:
        assert "8 worker(s) x 31 connections" in said
        assert "more than the PostgreSQL server allows" in said
