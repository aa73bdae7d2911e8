"""Import checkpoints: how far a file's import got, written in each batch's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage.tables import import_runs


@dataclass(frozen=True)
class ImportRun:
    id: str
    file_name: str
    position: int  # bytes of the file done
    next_line: int
    rows: int
    registered: int
    updated: int
    rejected: int
    rejects_offset: int  # bytes of the rejects report that belong to committed batches
    finished: bool


class ImportRunRepository:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    def _key(self, run_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(import_runs.c.org_id == self._org_id, import_runs.c.id == run_id)

    async def get(self, run_id: str) -> ImportRun | None:
        row = (await self._conn.execute(sa.select(import_runs).where(self._key(run_id)))).first()
        if row is None:
            return None
        return ImportRun(
            id=row.id,
            file_name=row.file_name,
            position=row.position,
            next_line=row.next_line,
            rows=row.rows,
            registered=row.registered,
            updated=row.updated,
            rejected=row.rejected,
            rejects_offset=row.rejects_offset,
            finished=row.finished_at is not None,
        )

    async def start(self, run_id: str, file_name: str, now: dt.datetime) -> ImportRun:
        await self._conn.execute(import_runs.delete().where(self._key(run_id)))
        values = {
            "org_id": self._org_id,
            "id": run_id,
            "file_name": file_name[-500:],
            "position": 0,
            "next_line": 1,
            "rows": 0,
            "registered": 0,
            "updated": 0,
            "rejected": 0,
            "rejects_offset": 0,
            "started_at": now,
            "updated_at": now,
            "finished_at": None,
        }
        await self._conn.execute(import_runs.insert().values(**values))
        return ImportRun(run_id, file_name, 0, 1, 0, 0, 0, 0, 0, False)

    async def checkpoint(self, run: ImportRun, now: dt.datetime, *, finished: bool = False) -> None:
        await self._conn.execute(
            import_runs.update()
            .where(self._key(run.id))
            .values(
                position=run.position,
                next_line=run.next_line,
                rows=run.rows,
                registered=run.registered,
                updated=run.updated,
                rejected=run.rejected,
                rejects_offset=run.rejects_offset,
                updated_at=now,
                finished_at=now if finished else None,
            )
        )
