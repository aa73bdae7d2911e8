"""What `memberbase import` prints: progress off a terminal, and Ctrl-C without tracebacks."""

from __future__ import annotations

import io
import signal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from memberbase.cli import importer
from memberbase.cli.import_progress import LINE_EVERY_SECONDS, ImportProgress
from memberbase.cli.main import app
from memberbase.storage.imports import ImportRun
from memberbase.usecases.import_customers import HELPER_FROM_BYTES, ImportRequest, ImportStatus, _helper


def status(rows: int, *, resumed: bool = False) -> ImportStatus:
    run = ImportRun("r", "f.csv", rows * 10, rows + 2, rows, rows, 0, 0, 0, False)
    return ImportStatus(run, total_bytes=1000, resumed=resumed)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_line_is_printed_every_few_seconds() -> None:
    text = io.StringIO()
    clock = Clock()
    progress = ImportProgress(Console(file=text, force_terminal=False, width=80), clock)
    with progress.shown():
        progress(status(0))
        for rows in range(10, 100, 10):  # a batch every second
            clock.now += 1
            progress(status(rows))
    # Nine batches in nine seconds: one line, after the first LINE_EVERY_SECONDS.
    assert LINE_EVERY_SECONDS == 5
    assert text.getvalue().splitlines() == ["importing: 50 rows (50%), 10 rows/s, 0 rejected"]


def test_on_a_terminal_the_bar_prints_no_lines_of_its_own() -> None:
    text = io.StringIO()
    clock = Clock()
    progress = ImportProgress(Console(file=text, force_terminal=True, width=120), clock)
    with progress.shown():
        progress(status(0))
        clock.now += 10
        progress(status(50))
    assert "importing: " not in text.getvalue()
    assert "importing" in text.getvalue()


def test_a_resumed_import_says_where_it_goes_on() -> None:
    text = io.StringIO()
    progress = ImportProgress(Console(file=text, force_terminal=False, width=80))
    progress(status(40, resumed=True))
    assert text.getvalue() == "resuming after row 40 (line 41)\n"


def test_ctrl_c_says_what_is_committed_and_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def interrupted(engine: Any, request: ImportRequest, progress: Any) -> ImportStatus:
        progress(status(0))
        progress(status(1500))  # a committed batch
        raise KeyboardInterrupt  # what asyncio.run raises after Ctrl-C

    monkeypatch.setattr(importer, "import_customers", interrupted)
    path = tmp_path / "in.csv"
    path.write_text("mobile\n919811600001\n")
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'i.db'}", "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["import", str(path), "--org", "50001"], env=env)
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        "error: interrupted: rows up to 1,500 (line 1501) are committed; "
        "run the same command to resume after them"
    )


def test_ctrl_c_before_the_first_batch_says_the_same_command_starts_again() -> None:
    assert "run the same command to start again" in ImportProgress(Console()).interrupted()


def test_helper_processes_leave_ctrl_c_to_the_importing_process(tmp_path: Path) -> None:
    # The terminal sends SIGINT to every process of the group; a helper that took it died
    # mid-wait with its own traceback.
    request = ImportRequest(org_id=1, path=tmp_path / "x.csv", fmt="csv", rejects_path=tmp_path / "r.csv")
    pool = _helper(request, HELPER_FROM_BYTES + 1)
    assert pool is not None
    with pool:
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
