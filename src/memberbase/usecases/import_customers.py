"""Importing a file of customers through the v1.1 registration rules, resumably.

Each batch of rows is registered by the same use case as `POST /v1.1/customer/add`
(same validation, codes, updates of known identifiers, rewards and events) and
the import's checkpoint (byte offset, counts, size of the rejects report) is
written in that batch's transaction. After an interruption the next run finds
the checkpoint and goes on after the last committed row: nobody is imported twice,
and the rejects report is cut back to what the committed batches wrote.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import gc
import hashlib
import io
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerDraft, Failure, ValidDraft
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.validation import validate_draft
from memberbase.http.v1_1.parse import parse_item
from memberbase.importing.rows import Format, Row, read_rows
from memberbase.storage.bulk import take_sequence
from memberbase.storage.database import is_sqlite, reading
from memberbase.storage.imports import ImportRun, ImportRunRepository
from memberbase.storage.orgs import OrgRepository
from memberbase.usecases.auditing import Downstream, RequestContext
from memberbase.usecases.bulk_register import FreshPlan, plan_fresh
from memberbase.usecases.register_customers import register_checked
from memberbase.usecases.results import ItemResult
from memberbase.usecases.unit_of_work import UnitOfWork

REJECTS_HEADER = ["line", "code", "message", "row"]
HELPER_FROM_BYTES = 4 * 1024 * 1024
HELPERS = 2  # processes checking rows: on two cores they fill what the writer and the database leave
CHECK_AHEAD = HELPERS  # batches checked ahead of the writes: memory stays a few batches deep


class ImportRefused(ValueError):
    """The import cannot start: unknown org or till, a finished run, …"""


@dataclass(frozen=True)
class ImportRequest:
    org_id: int
    path: Path
    fmt: Format
    rejects_path: Path
    till_code: str | None = None  # registered_till and audit attribution; default: the org's first till
    source: str | None = None  # for rows that name none
    account_id: str | None = None
    batch_size: int = 500
    skip_downstream: bool = False  # like SKIP-DOWNSTREAM: no rewards, no events
    restart: bool = False  # ignore an earlier run's checkpoint
    bulk: bool = True  # PostgreSQL: new customers set-wise with COPY (same rows as one by one)
    # Parse and validate in a helper process, a batch ahead of the writes; None: for files
    # over HELPER_FROM_BYTES (below that, starting the process costs more than it saves).
    helper_process: bool | None = None


@dataclass(frozen=True)
class ImportStatus:
    run: ImportRun
    total_bytes: int
    resumed: bool


def run_id(org_id: int, path: Path) -> str:
    """Names a file's import: the org, the file's size and a digest of its first 64 KiB.

    An edited file (other size or beginning) is a new import, not a resumption.
    """
    digest = hashlib.sha256(f"{org_id}\x1f{path.stat().st_size}\x1f".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(65536))
    return digest.hexdigest()[:32]


async def _org(engine: AsyncEngine, org_id: int) -> OrgConfig:
    async with engine.connect() as conn:
        found = await OrgRepository(conn).get_config(org_id)
    if found is None:
        raise ImportRefused(f"organisation {org_id} is not loaded (memberbase orgs load FILE)")
    return found[1]


def _till(org: OrgConfig, wanted: str | None) -> str:
    if wanted is not None:
        if org.till(wanted) is None:
            raise ImportRefused(f"till {wanted!r} is not a till of organisation {org.id}")
        return wanted
    if not org.tills:
        raise ImportRefused(f"organisation {org.id} has no till to attribute the import to")
    return org.tills[0].code


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _draft(row: Row, request: ImportRequest) -> CustomerDraft | Failure:
    if row.item is None:
        return Failure(Codes.ITEM_INPUT_INVALID, row.problem)
    item: dict[str, Any] = row.item
    if request.source and not item.get("source"):
        item = {**item, "source": request.source}
    if request.account_id and not item.get("accountId"):
        item = {**item, "accountId": request.account_id}
    return parse_item(item)


def check_rows(
    rows: list[Row], request: ImportRequest, org: OrgConfig, till: str, now: dt.datetime
) -> list[ValidDraft | Failure]:
    """A batch parsed and validated. Pure domain work, no I/O."""
    drafts = [_draft(row, request) for row in rows]
    return [d if isinstance(d, Failure) else validate_draft(d, org, till, now) for d in drafts]


@dataclass(frozen=True)
class CheckedBatch:
    rows: list[Row]
    context: RequestContext
    checked: list[ValidDraft | Failure]
    planned: FreshPlan | None = None


# What a helper process sends back for a batch: its verdict per row and the plan of its writes.
Prepared = tuple[list[ValidDraft | Failure], FreshPlan | None]


def _context(request: ImportRequest, run: ImportRun, till: str, now: dt.datetime) -> RequestContext:
    return RequestContext(
        till_code=till,
        request_id=f"import-{run.id[:16]}",
        now=now,
        downstream=Downstream(skip=request.skip_downstream, report=False),
    )


def prepare_rows(
    rows: list[Row], request: ImportRequest, org: OrgConfig, context: RequestContext, ids: list[int]
) -> Prepared:
    """A batch checked and, given customer ids, the writes of its rows that may be new customers
    planned: pure domain work, no I/O, which a helper process does a batch or two ahead of the
    writes (two thirds of an import's CPU). Which rows are new is only known when writing."""
    checked = check_rows(rows, request, org, context.till_code, context.now)
    if not ids:
        return checked, None
    drafts = {i: c for i, c in enumerate(checked) if isinstance(c, ValidDraft) and not c.referral_code}
    plan = plan_fresh(org, context, drafts, ids)
    if plan is not None:
        # The import reads outcomes only: the customer views stay here, unpickled nowhere.
        plan.results = {
            p: ItemResult(success=r.success, failure=r.failure, warnings=r.warnings)
            for p, r in plan.results.items()
        }
    return checked, plan


_heap_frozen = False  # in a helper: after its first batch


def prepare_in_helper(
    rows: list[Row], request: ImportRequest, org: OrgConfig, context: RequestContext, ids: list[int]
) -> Prepared:
    """`prepare_rows` in a helper process. After its first batch, what the process has loaded
    for good (modules, the org's validation metadata, phonenumbers' tables) is moved out of
    the garbage collector's sight: its full passes walked all of it, a third of a helper's
    CPU (172 -> 112 µs a row). The rest of every batch is collected as before."""
    global _heap_frozen
    prepared = prepare_rows(rows, request, org, context, ids)
    if not _heap_frozen:
        gc.collect()
        gc.freeze()
        _heap_frozen = True
    return prepared


async def _reserve_ids(engine: AsyncEngine, count: int) -> list[int]:
    # Taken outside the batch's transaction: sequences are not transactional anyway. The
    # ids of rows that turn out not to be new are left unused, a gap in the numbering.
    async with reading(engine) as conn:
        return await take_sequence(conn, "customer_id_seq", count)


async def _checked_batches(
    engine: AsyncEngine,
    rows: Iterator[Row],
    request: ImportRequest,
    run: ImportRun,
    org: OrgConfig,
    till: str,
    pool: Executor | None,
) -> AsyncGenerator[CheckedBatch, None]:
    """Batches in file order, checked (and planned) up to CHECK_AHEAD batches ahead."""
    batches = _batches(rows, request.batch_size)
    if pool is None:
        for batch in batches:
            now = dt.datetime.now(dt.UTC)
            yield CheckedBatch(
                batch, _context(request, run, till, now), check_rows(batch, request, org, till, now)
            )
        return
    loop = asyncio.get_running_loop()
    # The rows stay here while the helper checks them: only its verdicts come back.
    ahead: deque[tuple[list[Row], RequestContext, asyncio.Future[Prepared]]] = deque()
    plan_ahead = request.bulk and not is_sqlite(engine)

    async def submit() -> None:
        batch = next(batches, None)
        if batch is not None:
            context = _context(request, run, till, dt.datetime.now(dt.UTC))
            ids = await _reserve_ids(engine, len(batch)) if plan_ahead else []
            prepared = loop.run_in_executor(pool, prepare_in_helper, batch, request, org, context, ids)
            ahead.append((batch, context, prepared))

    for _ in range(CHECK_AHEAD):
        await submit()
    while ahead:
        batch, context, prepared = ahead.popleft()
        checked, plan = await prepared
        await submit()
        yield CheckedBatch(batch, context, checked, plan)


def ignore_interrupts() -> None:
    """A helper's start: Ctrl-C reaches the terminal's whole process group, and the importing
    process handles it (its batch rolls back, it shuts the pool down). A helper that took it
    died mid-wait with a traceback of its own, one per helper."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _helper(request: ImportRequest, total_bytes: int) -> Executor | None:
    wanted = request.helper_process
    if wanted is None:
        wanted = total_bytes > HELPER_FROM_BYTES
    if not wanted:
        return None
    # spawn: a fresh interpreter, not a fork of this one with its event loop and sockets.
    return ProcessPoolExecutor(
        max_workers=HELPERS, mp_context=multiprocessing.get_context("spawn"), initializer=ignore_interrupts
    )


def _csv_bytes(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _open_rejects(path: Path, keep: int) -> BinaryIO:
    """The rejects report, cut back to `keep` bytes (what committed batches wrote)."""
    handle: BinaryIO
    if keep == 0 or not path.exists():
        handle = path.open("wb")
        handle.write(_csv_bytes([list(REJECTS_HEADER)]))
    else:
        handle = path.open("r+b")
        handle.truncate(keep)
        handle.seek(keep)
    handle.flush()
    return handle


def _reject_lines(rows: list[Row], results: list[ItemResult]) -> bytes:
    return _csv_bytes(
        [
            [row.line, result.failure.code.code, result.failure.message, row.text]
            for row, result in zip(rows, results, strict=True)
            if result.failure is not None
        ]
    )


async def import_customers(
    engine: AsyncEngine, request: ImportRequest, progress: Callable[[ImportStatus], None] = lambda s: None
) -> ImportStatus:
    org = await _org(engine, request.org_id)
    till = _till(org, request.till_code)
    key = run_id(org.id, request.path)
    total = request.path.stat().st_size
    now = dt.datetime.now(dt.UTC)
    async with UnitOfWork(engine) as uow:
        runs = ImportRunRepository(uow.conn, org.id)
        run = await runs.get(key)
        resumed = run is not None and not request.restart
        if run is None or request.restart:
            run = await runs.start(key, str(request.path), now)
    assert run is not None
    if run.finished:
        return ImportStatus(run, total, resumed=True)
    status = ImportStatus(run, total, resumed)
    progress(status)
    rejects = _open_rejects(request.rejects_path, run.rejects_offset)
    pool = _helper(request, total)
    try:
        first_line = run.next_line if run.position else 1
        rows = read_rows(request.path, request.fmt, run.position, first_line)
        # Closed on the way out, also when a batch fails: no check left running behind it.
        async with aclosing(_checked_batches(engine, rows, request, run, org, till, pool)) as checked_batches:
            async for checked in checked_batches:
                run = await _import_batch(engine, org, request, run, checked, rejects)
                status = ImportStatus(run, total, resumed)
                progress(status)
        async with UnitOfWork(engine) as uow:
            await ImportRunRepository(uow.conn, org.id).checkpoint(
                run, dt.datetime.now(dt.UTC), finished=True
            )
        return ImportStatus(dataclasses.replace(run, finished=True), total, resumed)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        rejects.close()


async def _import_batch(
    engine: AsyncEngine,
    org: OrgConfig,
    request: ImportRequest,
    run: ImportRun,
    checked: CheckedBatch,
    rejects: BinaryIO,
) -> ImportRun:
    batch, now = checked.rows, checked.context.now
    async with UnitOfWork(engine) as uow:
        results = await register_checked(
            uow,
            org,
            checked.checked,
            checked.context,
            [{} for _ in batch],
            bulk=request.bulk,
            planned=checked.planned,
        )
        # The report's lines go to disk before the checkpoint that counts them commits.
        rejects.write(_reject_lines(batch, results))
        rejects.flush()
        os.fsync(rejects.fileno())
        registered = sum(r.success is Codes.CUSTOMER_REGISTERED for r in results)
        failed = sum(r.failure is not None for r in results)
        run = dataclasses.replace(
            run,
            position=batch[-1].end,
            next_line=batch[-1].line + max(1, batch[-1].text.count("\n") + 1),
            rows=run.rows + len(batch),
            registered=run.registered + registered,
            updated=run.updated + len(batch) - registered - failed,
            rejected=run.rejected + failed,
            rejects_offset=rejects.tell(),
        )
        await ImportRunRepository(uow.conn, org.id).checkpoint(run, now)
    return run
