"""v1.1 times: the org's wall-clock time, without an offset, as the hosted API writes them."""

from __future__ import annotations

import datetime as dt

from memberbase.domain.org_config import OrgConfig

V11_TIME = "%Y-%m-%d %H:%M:%S"


def local_time(value: dt.datetime, org: OrgConfig) -> str:
    return value.astimezone(org.zone).strftime(V11_TIME)
