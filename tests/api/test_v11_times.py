"""v1.1 times: the org's wall clock, `YYYY-MM-DD HH:MM:SS`, whatever the instant."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from memberbase.domain.org_config import OrgConfig
from memberbase.http.v1_1.times import V11_TIME, local_time


def _org(zone: str) -> OrgConfig:
    return OrgConfig.model_validate({"id": 1, "name": "Org", "timezone": zone})


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/St_Johns", "UTC", "Pacific/Chatham"])
def test_written_as_the_hosted_api_writes_them_in_the_orgs_zone(zone: str) -> None:
    org = _org(zone)
    picks = random.Random(zone)
    for _ in range(2000):
        instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=picks.uniform(0, 4_102_444_800), microseconds=picks.randint(0, 999_999)
        )
        assert local_time(instant, org) == instant.astimezone(org.zone).strftime(V11_TIME)


def test_known_instants_and_far_years() -> None:
    kolkata = _org("Asia/Kolkata")
    noon_utc = dt.datetime(2026, 12, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC)
    assert local_time(noon_utc, kolkata) == "2026-12-01 17:30:00"
    assert local_time(dt.datetime(9999, 12, 31, 0, 0, tzinfo=dt.UTC), _org("UTC")) == "9999-12-31 00:00:00"
    early = dt.datetime(999, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    assert local_time(early, _org("UTC")) == early.strftime(V11_TIME)
