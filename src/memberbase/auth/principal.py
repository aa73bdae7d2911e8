"""Who is calling: one typed object every endpoint receives."""

from __future__ import annotations

from dataclasses import dataclass

from memberbase.domain.org_config import OrgConfig


@dataclass(frozen=True)
class Principal:
    org: OrgConfig
    till_code: str
