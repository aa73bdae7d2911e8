"""Searching an org's customers by a prefix of their identifiers or names (v2 search)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.domain.org_config import OrgConfig
from memberbase.domain.search import SearchPage, search_query
from memberbase.storage.database import reading
from memberbase.storage.search import CustomerSearch


async def search_customers(
    engine: AsyncEngine, org: OrgConfig, text: str, offset: int, limit: int
) -> SearchPage:
    """A page of the customers whose identifiers or names start with `text` (see domain.search)."""
    query = search_query(text, offset, limit, org)
    program = org.default_program
    async with reading(engine) as conn:
        return await CustomerSearch(conn, org.id).find(query, program.id if program else None)
