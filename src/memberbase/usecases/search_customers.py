"""Searching an org's customers by a prefix of their identifiers or names (v2 search)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import SearchPage, search_query
from memberbase.storage.search import CustomerSearch


async def search_customers(
    engine: AsyncEngine, org: OrgConfig, text: str, offset: int, limit: int
) -> SearchPage:
    """A page of the customers whose identifiers or names start with `text` (see domain.search)."""
    query = search_query(text, offset, limit, org)
    program = org.default_program
    # A transaction (read-only, rolled back) rather than `reading`: it holds the search's
    # planner settings on PostgreSQL (see storage.search).
    async with engine.connect() as conn, conn.begin():
        return await CustomerSearch(conn, org.id).find(query, program.id if program else None)
