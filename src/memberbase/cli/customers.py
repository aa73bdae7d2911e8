"""`memberbase customers export`: a customer's subject-access document, from the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated

import orjson
import typer

from memberbase.cli.errors import database_errors, err, fail, settings
from memberbase.storage.database import create_engine
from memberbase.storage.orgs import OrgRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.export_customer import export_customer
from memberbase.usecases.merge_requests import erase_due

customers_app = typer.Typer(help="One customer's data: the subject-access export (docs/export.md).")


async def _export(database_url: str, org_id: int, customer_id: int) -> dict[str, object] | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await OrgRepository(conn).get_config(org_id)
        if found is None:
            fail(f"no organisation {org_id} in this database")
        return await export_customer(engine, found[1], customer_id, dt.datetime.now(dt.UTC))
    finally:
        await engine.dispose()


@customers_app.command("export")
def export_command(
    customer_id: Annotated[int, typer.Argument(help="The customer's id")],
    org: Annotated[int, typer.Option("--org", help="The organisation's id")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: MEMBERBASE_DATABASE_URL or ./memberbase.db")
    ] = None,
) -> None:
    """Print everything held about one customer as one JSON document."""
    url = settings(database_url=database_url).database_url
    with database_errors(url):
        document = asyncio.run(_export(url, org, customer_id))
    if document is None:
        fail(f"no customer {customer_id} in organisation {org}")
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if output is None:
        typer.echo(data.decode())
    else:
        output.write_bytes(data)
        err.print(f"Wrote customer {customer_id}'s data to {output}.")


async def _erase_due(database_url: str, org_id: int) -> list[int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await OrgRepository(conn).get_config(org_id)
        if found is None:
            fail(f"no organisation {org_id} in this database")
        now = dt.datetime.now(dt.UTC)
        context = RequestContext(
            till_code="memberbase erase-due", request_id=f"erase-due-{now:%Y%m%dT%H%M%S}", now=now
        )
        return await erase_due(engine, found[1], context)
    finally:
        await engine.dispose()


@customers_app.command("erase-due")
def erase_due_command(
    org: Annotated[int, typer.Option("--org", help="The organisation's id")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: MEMBERBASE_DATABASE_URL or ./memberbase.db")
    ] = None,
) -> None:
    """Carry out approved deletions whose waiting period is over (run it from cron, e.g. hourly)."""
    url = settings(database_url=database_url).database_url
    with database_errors(url):
        done = asyncio.run(_erase_due(url, org))
    typer.echo(f"erased the customers of {len(done)} deletion request(s)" + (f": {done}" if done else ""))
