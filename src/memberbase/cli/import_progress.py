"""How `memberbase import` shows its progress: a live bar on a terminal, plain lines elsewhere.

Rich draws nothing live when its output is not a terminal (a pipe, a log file, a CI job), so
an hour-long import said nothing until its end. Off a terminal a line is printed every
LINE_EVERY_SECONDS instead. Either way the last committed status is kept: after Ctrl-C it
says where the next run resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from memberbase.usecases.import_customers import ImportStatus

LINE_EVERY_SECONDS = 5.0


class ImportProgress:
    """The import's progress callback; `first` and `last` are the statuses it saw."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.clock = clock
        self.first: ImportStatus | None = None
        self.last: ImportStatus | None = None
        self._started = clock()
        self._shown_at = self._started
        self._bar: Progress | None = None
        self._task = TaskID(0)

    @contextmanager
    def shown(self) -> Iterator[ImportProgress]:
        if not self.console.is_terminal:
            yield self
            return
        columns = (
            TextColumn("[bold]importing"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),
            TextColumn(
                "{task.fields[rows]} rows, {task.fields[rate]} rows/s, {task.fields[rejected]} rejected"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.console, transient=False) as bar:
            self._bar = bar
            self._task = bar.add_task("import", total=None, rows=0, rate="-", rejected=0)
            try:
                yield self
            finally:
                self._bar = None

    def __call__(self, status: ImportStatus) -> None:
        if self.first is None:
            self.first = status
            if status.resumed and status.run.rows:
                self.console.print(f"resuming after row {status.run.rows} (line {status.run.next_line - 1})")
        self.last = status
        done = status.run.rows - self.first.run.rows
        elapsed = self.clock() - self._started
        rate = f"{done / elapsed:,.0f}" if elapsed > 0 and done else "-"
        if self._bar is not None:
            self._bar.update(
                self._task,
                total=status.total_bytes,
                completed=status.run.position,
                rows=f"{status.run.rows:,}",
                rate=rate,
                rejected=status.run.rejected,
            )
        elif self.clock() - self._shown_at >= LINE_EVERY_SECONDS:
            self._shown_at = self.clock()
            share = status.run.position / status.total_bytes if status.total_bytes else 1.0
            self.console.print(
                f"importing: {status.run.rows:,} rows ({share:.0%}), {rate} rows/s, "
                f"{status.run.rejected:,} rejected",
                soft_wrap=True,
            )

    def interrupted(self) -> str:
        """What to tell the user after Ctrl-C: what is committed, and how to go on."""
        if self.last is None or not self.last.run.rows:
            return "interrupted before any row was committed; run the same command to start again"
        run = self.last.run
        return (
            f"interrupted: rows up to {run.rows:,} (line {run.next_line - 1}) are committed; "
            "run the same command to resume after them"
        )
