"""Access groups: what a till or API client may do, per resource (none, read, write).

Read is the GET endpoints, write the POST ones; write includes read. A till or
client without a group gets DEFAULT_GROUP (write on customer), so an org file
that predates access groups keeps working.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Resource(StrEnum):
    CUSTOMER = "customer"


class Level(IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2


_LEVELS = {"none": Level.NONE, "read": Level.READ, "write": Level.WRITE}


class AccessGroup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    customer: str = Field("none", pattern=r"^(none|read|write)$")

    def level(self, resource: Resource) -> Level:
        return _LEVELS[getattr(self, resource.value)]


DEFAULT_GROUP = AccessGroup(name="default", customer="write")


def allows(group: AccessGroup, resource: Resource, needed: Level) -> bool:
    return group.level(resource) >= needed
