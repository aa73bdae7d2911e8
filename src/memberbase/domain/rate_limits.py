"""Requests per minute an org may make of each API, by region, as the hosted defaults.

An API is named by method and route, as operators read it in a request log
("POST /v2/customers"). The hosted documents give per-region defaults for
customer registration; reads default to 1000 per minute.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Region(StrEnum):
    ASIA1 = "ASIA1"  # N. Virginia
    ASIA2 = "ASIA2"  # Singapore
    EMEA = "EMEA"  # Ireland
    US = "US"


V11_ADD = "POST /v1.1/customer/add"
V2_ADD = "POST /v2/customers"
READS_DEFAULT = 1000

# None means unlimited (the hosted US cluster documents no limit for v1.1 add).
REGION_DEFAULTS: dict[Region, dict[str, int | None]] = {
    Region.ASIA1: {V11_ADD: 500, V2_ADD: 600},
    Region.ASIA2: {V11_ADD: 700, V2_ADD: 100},
    Region.EMEA: {V11_ADD: 400, V2_ADD: 100},
    Region.US: {V11_ADD: None, V2_ADD: 600},
}


class RateLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    region: Region = Region.ASIA1
    per_minute: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)  # 0: unlimited

    def limit(self, api: str) -> int | None:
        """Requests per minute allowed for `api`, or None for no limit."""
        if api in self.per_minute:
            return self.per_minute[api] or None
        return REGION_DEFAULTS[self.region].get(api, READS_DEFAULT)
