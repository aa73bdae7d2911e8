"""Who is calling: one typed object every endpoint receives."""

from __future__ import annotations

from dataclasses import dataclass

from memberbase.domain.access import AccessGroup, Level, Resource, allows
from memberbase.domain.org_config import OrgConfig


@dataclass(frozen=True)
class Principal:
    org: OrgConfig
    till_code: str  # the till the call is attributed to
    access: AccessGroup
    api_client: str | None = None  # the OAuth client's key, when the call came with its token

    def may(self, resource: Resource, needed: Level) -> bool:
        return allows(self.access, resource, needed)
