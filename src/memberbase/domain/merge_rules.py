"""An org's merge caps (the org YAML's `merges:` block).

Identity-graph products cap how many identifiers one profile may gather and how often it
may absorb another; without a cap one bad key (a shared store phone number typed at every
till) folds thousands of shoppers into one. The defaults are beyond any real shopper.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MergeRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_identifiers_per_customer: int = Field(50, ge=1, le=100_000)
    max_merges_per_customer: int = Field(20, ge=1, le=100_000)
    # Merge requests (POST /v2/requests) wait for approval unless this is on or the caller
    # passes client_auto_approve=true, as the hosted API does.
    auto_approve: bool = False


class ErasureRules(BaseModel):
    """The org YAML's `erasure:` block: how long an approved deletion waits (0: at once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waiting_hours: int = Field(0, ge=0, le=24 * 365)
