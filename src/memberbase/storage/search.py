"""Customer search: prefixes of identifiers and names, one org, one statement.

Each kind of match is a range of one index (migration 0010), read in its order up to a
window (the page, `COUNT_BEYOND` more, and one to tell whether there are more still):
identifiers by lower(value), "first last" (which holds every first name's prefix too) and
last names, lower-cased. A prefix P is the range P <= key <= P || U+10FFFF in byte order
(`text_pattern_ops` on PostgreSQL, BINARY on SQLite), which the indexes serve with the
prepared statement's generic plan too (LIKE $1 would not), and where '%' and '_' are plain
characters. The one value not found is one whose character after P is U+10FFFF itself, a
permanent non-character. The query's lower() is the database's, as the indexed keys', so
both sides fold case alike.

A customer found several ways counts once, by their first match in (key, field) order;
the page is ordered by that key, then id. The total counts the customers within the
windows: exact unless a window overflowed, when it is a lower bound.

Erased customers hold no identifiers and blank names, so no range finds them. A merge's
victim keeps its names (its identifiers moved to the survivor): the name branches leave it
out, so a search finds the survivor only.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memberbase.domain.search import SearchHit, SearchPage, SearchQuery
from memberbase.storage.database import Statement

_FULL_NAME = "lower((c.firstname || ' ') || c.lastname)"  # as ix_customers_search_full_name
_QUERY = "lower(CAST(:q AS text))"
_CUSTOMER = "c.firstname, c.lastname, c.mobile, c.email, c.external_id, c.type, c.status_label"


class _Dialect(NamedTuple):
    ge: str
    le: str
    top: str  # U+10FFFF
    # Byte order: PostgreSQL orders by the collation unless told `USING ~<~`, and only that
    # order is the text_pattern_ops index's (a sort of every match otherwise).
    order: str
    # The page's customers: on PostgreSQL one probe of the key each, whatever the planner
    # knows (a LATERAL subquery with LIMIT is never flattened; see storage/customers.py).
    customers: str
    as_bytes: str  # a collation comparing bytes, for max()


_POSTGRES = _Dialect(
    "~>=~",
    "~<=~",
    "chr(1114111)",
    " USING ~<~",
    " FROM counted LEFT JOIN (page CROSS JOIN LATERAL (SELECT "
    + _CUSTOMER
    + " FROM customers c WHERE c.org_id = :org_id AND c.id = page.customer_id LIMIT 1) AS c) ON true",
    ' COLLATE "C"',
)
_SQLITE = _Dialect(
    ">=",
    "<=",
    "char(1114111)",
    "",
    " FROM counted LEFT JOIN page ON 1 = 1"
    " LEFT JOIN customers c ON c.org_id = :org_id AND c.id = page.customer_id",
    " COLLATE BINARY",
)


def _branch(d: _Dialect, part: int, source: str, key: str, prefix: str, order: str, extra: str = "") -> str:
    return (
        f"SELECT * FROM (SELECT {part} AS part, {source}"
        f" AND {key} {d.ge} {prefix} AND {key} {d.le} ({prefix} || {d.top}){extra}"
        f" ORDER BY {key}{d.order}, {order} LIMIT :window + 1) AS part_{part}"
    )


def _identifiers(d: _Dialect, part: int, prefix: str, extra: str = "") -> str:
    source = (
        "i.customer_id, lower(i.value) AS key, i.type AS field, i.value AS matched"
        " FROM identifiers i WHERE i.org_id = :org_id"
    )
    return _branch(d, part, source, "lower(i.value)", prefix, "i.customer_id", extra)


def _names(d: _Dialect, part: int, key: str, field: str, shown: str) -> str:
    source = (
        f"c.id AS customer_id, {key} AS key, '{field}' AS field, {shown} AS matched"
        " FROM customers c WHERE c.org_id = :org_id AND c.merged_into IS NULL"
    )
    return _branch(d, part, source, key, _QUERY, "c.id")


def _sql(d: _Dialect, mobiles: int) -> str:
    branches = [
        _identifiers(d, 0, _QUERY),
        _names(d, 1, _FULL_NAME, "name", "(c.firstname || ' ') || c.lastname"),
        _names(d, 2, "lower(c.lastname)", "lastName", "c.lastname"),
        *(_identifiers(d, 3 + n, f":mobile_{n}", " AND i.type = 'mobile'") for n in range(mobiles)),
    ]
    return (
        "WITH hits AS (" + " UNION ALL ".join(branches) + "),"
        " ranked AS (SELECT customer_id, key, field, matched, row_number()"
        f" OVER (PARTITION BY customer_id ORDER BY key{d.order}, field) AS nth FROM hits),"
        " best AS (SELECT customer_id, key, field, matched FROM ranked WHERE nth = 1),"
        f" parts AS (SELECT count(*) AS n, max(key{d.as_bytes}) AS last_key FROM hits GROUP BY part),"
        f" page AS (SELECT * FROM best ORDER BY key{d.order}, customer_id LIMIT :limit OFFSET :offset),"
        " counted AS (SELECT (SELECT count(*) FROM best) AS total,"
        " EXISTS (SELECT 1 FROM parts WHERE n > :window) AS capped,"
        # A window that ends before the page does (or a short page beside a full window): its
        # rows past the window may hold customers of the page (see `find`).
        " EXISTS (SELECT 1 FROM parts WHERE n > :window AND ((SELECT count(*) FROM page) < :limit"
        f" OR last_key <= (SELECT max(key{d.as_bytes}) FROM page))) AS short)"
        " SELECT counted.total, counted.capped, counted.short,"
        f" page.customer_id, page.field, page.matched, {_CUSTOMER},"
        " (SELECT e.tier_serial FROM enrolments e WHERE e.org_id = :org_id"
        " AND e.customer_id = page.customer_id AND e.program_id = :program_id) AS tier_serial"
        + d.customers
        + f" ORDER BY page.key{d.order}, page.customer_id"
    )


@cache
def _statement(mobiles: int) -> Statement:
    """The search with `mobiles` extra mobile prefixes (:mobile_0, ...), for both stores."""
    return Statement(sa.text(_sql(_SQLITE, mobiles)), on_postgresql=sa.text(_sql(_POSTGRES, mobiles)))


# PostgreSQL plans each range as an ordered index scan that stops at the window, whatever
# it estimates. Without these it may read the whole range into a bitmap and sort it, which
# its estimates favour whenever they put fewer matches in a range than a window holds: a
# generic plan's always do (a fixed 0.5% of an org's average share of rows), and a broad
# prefix then read every match (all 20,000 of a test org's mobiles for "9900"). They hold
# for the search's own transaction (`Statement.fetch_planned`).
PLANNER_SETTINGS = {"enable_bitmapscan": "off", "enable_seqscan": "off"}


def statement_sql(mobiles: int, postgres: bool) -> str:
    """The search's SQL as it runs (for the plan tests and the bench's pgbench script)."""
    found = _statement(mobiles)
    return str(found._on_postgresql if postgres else found.statement)


class CustomerSearch:
    def __init__(self, conn: AsyncConnection, org_id: int) -> None:
        self._conn = conn
        self._org_id = org_id

    async def find(self, query: SearchQuery, program_id: int | None) -> SearchPage:
        """One page of the customers matching `query`; tiers in `program_id` (None: none).
        On a `reading` connection: on PostgreSQL the search is a transaction of its own, which
        holds its `PLANNER_SETTINGS`."""
        params: dict[str, Any] = {
            "org_id": self._org_id,
            "q": query.text,
            "window": query.window,
            "limit": query.limit,
            "offset": query.offset,
            "program_id": program_id,
            **{f"mobile_{n}": prefix for n, prefix in enumerate(query.mobiles)},
        }
        statement = _statement(len(query.mobiles))
        rows = await statement.fetch_planned(self._conn, params, PLANNER_SETTINGS)
        # A customer with several matches of one kind (a mobile and an external id that is
        # the same number, say) takes several rows of its window, so a deep page can need
        # more rows than the page and COUNT_BEYOND: read again with a larger window.
        for _ in range(_WIDER_READS):
            if not (rows and rows[0]["short"]):
                break
            params["window"] = params["window"] * 4
            rows = await statement.fetch_planned(self._conn, params, PLANNER_SETTINGS)
        hits = [
            SearchHit(
                customer_id=int(r["customer_id"]),
                firstname=r["firstname"],
                lastname=r["lastname"],
                mobile=r["mobile"],
                email=r["email"],
                external_id=r["external_id"],
                matched_field=r["field"],
                matched_value=r["matched"],
                type=r["type"],
                status_label=r["status_label"],
                tier_serial=r["tier_serial"],
            )
            for r in rows
            if r["customer_id"] is not None
        ]
        total = int(rows[0]["total"]) if rows else 0
        return SearchPage(total=total, total_exact=not (rows and rows[0]["capped"]), hits=hits)


_WIDER_READS = 2  # windows 4 and 16 times as large; past that the page is what they hold
