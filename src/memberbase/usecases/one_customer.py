"""One v1.1 item (a registration or an update) in a transaction of its own.

Most tills send one customer a request: it needs no savepoint (two round trips) inside a
batch's transaction, since a refusal rolls its own transaction back just as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.codes import Codes
from memberbase.domain.customer import Failure, ValidDraft
from memberbase.domain.org_config import OrgConfig
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.races import settle
from memberbase.usecases.results import ItemResult
from memberbase.usecases.rewards import Rewarder
from memberbase.usecases.unit_of_work import UnitOfWork

Write = Callable[[Rewarder, CustomerRepository], Awaitable[ItemResult]]


def item_result(outcome: ItemResult | Failure | None) -> ItemResult:
    """What `settle` came back with, as an item's result (None: every try lost a race)."""
    if outcome is None:
        return ItemResult(failure=Failure(Codes.CONCURRENT_ACTIONS))
    if isinstance(outcome, Failure):
        return ItemResult(failure=outcome)
    return outcome


async def write_alone(
    engine: AsyncEngine,
    org: OrgConfig,
    valid: ValidDraft,
    context: RequestContext,
    echo: dict[str, object],
    write: Write,
) -> ItemResult:
    """`write` the item with its identifiers locked, its answer kept for an Idempotency-Key."""

    async def attempt() -> ItemResult:
        async with UnitOfWork(engine) as uow:
            customers = CustomerRepository(uow.conn, org.id)
            await customers.lock_identifiers([(k.value, v) for k, v in valid.identifiers.items()])
            written = await write(Rewarder(uow, org, context), customers)
            written.echo = echo  # the kept answer (seal) renders it
            await uow.seal(context, [written])
            return written

    result = item_result(await settle(attempt))
    result.echo = echo
    return result
