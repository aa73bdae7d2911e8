"""The `memberbase` command: help, schema, org loading, the serve banner."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from typer.testing import CliRunner, Result

from memberbase.cli.banner import demo_curl
from memberbase.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args", [["--help"], ["serve", "--help"], ["db", "--help"], ["orgs", "load", "--help"]]
)
def test_every_command_explains_itself(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_serve_help_names_every_option() -> None:
    output = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    for option in ("--config", "--database-url", "--host", "--port"):
        assert option in output


def test_db_check_passes_on_a_fresh_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "check", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_orgs_load_reports_created_then_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    demo = Path(__file__).resolve().parents[1] / "src" / "memberbase" / "demo.yaml"
    first = runner.invoke(app, ["orgs", "load", str(demo), "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "created [50001]" in first.output
    second = runner.invoke(app, ["orgs", "load", str(demo), "--database-url", url])
    assert "unchanged [50001]" in second.output


def test_a_bad_org_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("orgs:\n  - {id: 1, name: a, base_country: XX}\n")
    result = runner.invoke(
        app, ["orgs", "load", str(bad), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 2
    assert "unknown country" in result.output


def test_an_unsupported_database_url_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["orgs", "load", "nope.yaml", "--database-url", "mysql://x/y"])
    assert result.exit_code == 2


def test_the_demo_curl_carries_the_md5_of_the_password() -> None:
    curl = demo_curl("http://127.0.0.1:8000", "demo.till", "demo123")
    assert "demo.till:62cc2d8b4bf2d8728120d052163a77df" in curl
    assert "/v1.1/customer/add?format=json" in curl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_environment() -> dict[str, str]:
    """This environment for a child process started elsewhere: PYTHONPATH made absolute, so
    that `PYTHONPATH=src` still means this checkout's code from the child's directory."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep))
    return env


def _serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """`memberbase serve` as a user starts it, on a free port and a fresh SQLite file, once healthy."""
    port = _free_port()
    env = {**child_environment(), "MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "memberbase", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc, port
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    pytest.fail(f"server did not start: {proc.communicate(timeout=20)[0]}")


DEMO_AUTH = ("demo.till", "62cc2d8b4bf2d8728120d052163a77df")


def printed_commands(output: str) -> list[str]:
    """Each shell command of the banner (`curl …` or `TOKEN=$(curl …`), continuation lines included."""
    commands: list[str] = []
    lines = iter(output.splitlines())
    for line in lines:
        if line.startswith(("curl ", "TOKEN=$(curl ")):
            command = [line]
            while command[-1].endswith("\\"):
                command.append(next(lines))
            commands.append("\n".join(command))
    return commands


def readme_shell_blocks() -> list[str]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)```", readme, flags=re.S)


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 20) -> str:
    """What the process printed up to and including the line holding `marker`."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {marker!r} in {seen.decode()!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"the process ended before {marker!r}: {seen.decode()!r}"
        seen += chunk
    return seen.decode()


def run_printed(command: str, **env: str) -> Any:
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_serve_starts_prints_credentials_and_the_printed_curls_work(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path)
    try:
        banner = read_until(proc, "X-CAP-API-OAUTH-TOKEN: $TOKEN")
        register, ask_token, use_token = printed_commands(banner)
        added = run_printed(register)["response"]["customers"]["customer"][0]
        assert added["item_status"]["code"] == "1000"
        assert added["current_slab"] == "Base"
        got = run_printed(f"{ask_token}\n{use_token}")["response"]["customers"]["customer"][0]
        assert got["mobile"] == "919876532218"  # found with the OAuth token
        # The README's examples (Basic, then OAuth) work as written, on this server's port.
        examples = [b for b in readme_shell_blocks() if "127.0.0.1:8000/v" in b]
        assert len(examples) == 2
        for example in examples:
            found = run_printed(example.replace(":8000/", f":{port}/"))["response"]["customers"]
            assert found["customer"][0]["mobile"] == "919876532218"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in banner
    assert "till demo.till / password demo123" in banner
    assert "OAuth: API client demo.client / secret demo-secret-123" in banner


def test_serve_with_two_workers_serves_registrations(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path, "--workers", "2", "--no-access-log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=DEMO_AUTH) as client:
            for n in range(10):
                body = {"root": {"customer": [{"mobile": f"91987663{n:04d}"}]}}
                assert client.post("/v1.1/customer/add", json=body).status_code == 200
            got = client.get("/v1.1/customer/get?mobile=919876630009").json()
            assert got["response"]["customers"]["customer"][0]["item_status"]["code"] == "1000"
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "without --redis-url each worker counts rate limits on its own" in output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_runs_uvicorn_on_the_one_write_protocol_with_bounded_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    import uvicorn

    from memberbase.cli import workers as workers_module
    from memberbase.http.head_limits import HeadLimitedProtocol
    from memberbase.http.one_write import OneWriteHttpToolsProtocol

    seen: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **kw: seen.append(kw.get("http")))
    monkeypatch.setattr(workers_module.SocketPerWorker, "run", lambda self: seen.append(self.config.http))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMBERBASE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    with mock.patch.dict(os.environ):  # serve --workers hands its settings to workers by the environment
        result = runner.invoke(app, ["serve", "--port", str(_free_port()), "--workers", workers])
    assert result.exit_code == 0, result.output
    assert seen == [HeadLimitedProtocol]
    assert issubclass(HeadLimitedProtocol, OneWriteHttpToolsProtocol)


def _one_line_error(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_db_upgrade_on_a_missing_postgresql_database_says_so_in_one_line() -> None:
    from tests.conftest import POSTGRES_ADMIN_URL

    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/memberbase_no_such_database"
    for command in (["db", "upgrade"], ["db", "check"], ["events", "status"]):
        result = runner.invoke(app, [*command, "--database-url", url])
        assert result.exit_code == 2
        line = _one_line_error(result)
        # Whatever the server says (it may be down on a developer's machine), the line names the database.
        assert line.startswith("error: cannot use the database postgresql://"), line
        assert "memberbase_no_such_database" in line


def test_db_upgrade_on_an_unusable_sqlite_path_says_so_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    url = f"sqlite:///{missing / 'dir.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 2
    assert _one_line_error(result) == (
        f"error: cannot use the database {url}: unable to open database file: there is no directory {missing}"
    )
    result = runner.invoke(app, ["db", "upgrade", "--database-url", f"sqlite:///{tmp_path}"])
    assert result.exit_code == 2
    assert _one_line_error(result).endswith(f"unable to open database file: {tmp_path} is a directory")


def test_db_upgrade_refuses_an_unsupported_database_in_one_line() -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", "mysql://x/y"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in _one_line_error(result)


def test_db_check_names_the_disagreement_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic.util.exc import CommandError

    from memberbase.storage import schema

    def disagree(url: str) -> None:
        raise CommandError("New upgrade operations detected: [('add_column', 'x')]")

    monkeypatch.setattr(schema, "check", disagree)
    result = runner.invoke(app, ["db", "check", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert _one_line_error(result).startswith("error: tables and migrations disagree: New upgrade operations")


def test_invalid_settings_are_named_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"MEMBERBASE_PORT": "99999999"})
    assert result.exit_code == 2
    assert _one_line_error(result).startswith("error: invalid settings: port:")


def test_db_repair_is_a_dry_run_by_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'repair.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = runner.invoke(app, ["db", "repair", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "scanned 0; would mend (dry run; --apply mends) 0" in result.output
