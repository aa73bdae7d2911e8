"""Everything stored about one customer, table by table: the subject-access export's reads.

Each section is one table's rows for the customer, every column but `org_id`, so a column
added to a table is exported without anyone remembering to add it here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.storage import tables as t

# (section, table, the column naming the customer), in the order the document lists them.
SECTIONS: tuple[tuple[str, sa.Table, str], ...] = (
    ("profiles", t.profiles, "customer_id"),
    ("identifiers", t.identifiers, "customer_id"),
    ("cards", t.cards, "customer_id"),
    ("enrolments", t.enrolments, "customer_id"),
    ("ledger", t.reward_ledger, "customer_id"),
    ("coupons", t.coupons, "customer_id"),
    ("currencies", t.currency_balances, "customer_id"),
    ("referralCodes", t.referral_codes, "customer_id"),
    ("referredBy", t.referrals, "referee_id"),
    ("referred", t.referrals, "referrer_id"),
    ("statusLog", t.status_log, "customer_id"),
    ("subscriptions", t.subscriptions, "customer_id"),
    ("consentLog", t.consent_log, "customer_id"),
    ("auditTrail", t.audit_log, "customer_id"),
    ("requests", t.requests, "user_id"),
    ("events", t.outbox, "customer_id"),
)


_TIMES = (
    "occurred_at", "created_on", "created_at", "awarded_at",
    "issued_at", "enrolled_at", "referred_at", "updated_at",
)  # fmt: skip


def _plain(row: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k != "org_id"}


async def customer_rows(
    conn: AsyncConnection, org_id: int, customer_id: int, absorbed: list[int]
) -> dict[str, Any] | None:
    """Every row about the customer and the customers merged into it (`absorbed`: the rows a
    merge leaves in place, such as the append-only logs, are still about this person), by
    section; None when there is no such customer."""
    found = (
        (
            await conn.execute(
                sa.select(t.customers).where(t.customers.c.org_id == org_id, t.customers.c.id == customer_id)
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        return None
    document: dict[str, Any] = {"customer": _plain(found), "mergedCustomers": absorbed}
    for section, table, column in SECTIONS:
        when = [table.c[name] for name in _TIMES if name in table.c]  # oldest first
        query = (
            sa.select(table)
            .where(table.c.org_id == org_id, table.c[column].in_([customer_id, *absorbed]))
            .order_by(*when, *table.primary_key.columns)
        )
        document[section] = [_plain(r) for r in (await conn.execute(query)).mappings()]
    merges = sa.select(t.merges).where(
        t.merges.c.org_id == org_id,
        sa.or_(t.merges.c.survivor_id == customer_id, t.merges.c.victim_id == customer_id),
    )
    document["merges"] = [
        _plain(r) for r in (await conn.execute(merges.order_by(t.merges.c.occurred_at))).mappings()
    ]
    return document
