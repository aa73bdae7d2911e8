"""An enrolment read back against the org's current programmes and tiers."""

from __future__ import annotations

import datetime as dt

from memberbase.domain.loyalty import Enrolment, view
from memberbase.domain.org_config import OrgConfig

ORG = OrgConfig.model_validate(
    {
        "id": 1,
        "name": "o",
        "programs": [
            {
                "id": 10,
                "name": "Main",
                "tiers": [{"serial": 1, "name": "Base"}, {"serial": 3, "name": "Gold"}],
            },
            {"id": 20, "name": "Side", "tiers": [{"serial": 1, "name": "Side Base"}]},
        ],
    }
)
EXPIRES = dt.datetime(2126, 1, 1, tzinfo=dt.UTC)


def test_an_enrolment_reads_with_its_programme_its_tier_and_the_tier_after() -> None:
    enrolled = view(Enrolment(10, 1, EXPIRES, loyalty_points=5), ORG)
    assert enrolled is not None
    assert (enrolled.program.name, enrolled.tier.name) == ("Main", "Base")
    assert enrolled.next_tier is not None
    assert enrolled.next_tier.name == "Gold"
    assert enrolled.enrolment.loyalty_points == 5
    top = view(Enrolment(10, 3, EXPIRES), ORG)
    assert top is not None
    assert top.next_tier is None
    assert view(Enrolment(20, 1, EXPIRES), ORG) is not None


def test_a_programme_or_tier_no_longer_configured_reads_as_nothing() -> None:
    assert view(Enrolment(30, 1, EXPIRES), ORG) is None  # the programme was removed
    assert view(Enrolment(10, 2, EXPIRES), ORG) is None  # the tier was removed
    assert view(Enrolment(20, 3, EXPIRES), ORG) is None  # a tier of another programme
