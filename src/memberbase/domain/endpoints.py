"""Dummy and test customers (v2 `endPointsEnabled`, seed 003): the loyalty endpoints they reach.

Seed 003: "Use this to add dummy customers (for internal or testing purposes) and specify
the respective endpoints. Values: REFERRAL_ENDPOINT, DVS_ENDPOINT, TIMELINE_ENDPOINT,
POINTENGINE_ENDPOINT." A customer registered with the list is a dummy: only the endpoints
named are reached, the others are switched off. A real customer has no list: all are on.

What each endpoint stands for in memberbase:
- REFERRAL_ENDPOINT: a referral code to share, and a referral code sent being applied;
- POINTENGINE_ENDPOINT: points and alternate currencies (opening points, rewards, tiers);
- DVS_ENDPOINT (the voucher system): coupons;
- TIMELINE_ENDPOINT: the customer's events sent downstream (the outbox).
"""

from __future__ import annotations

from collections.abc import Iterable

REFERRAL = "REFERRAL_ENDPOINT"
DVS = "DVS_ENDPOINT"
TIMELINE = "TIMELINE_ENDPOINT"
POINT_ENGINE = "POINTENGINE_ENDPOINT"
ENDPOINTS = (REFERRAL, DVS, TIMELINE, POINT_ENGINE)
# The hosted notes' sample spells it POINTSENGINE_ENDPOINT; both mean the one endpoint.
_SPELLINGS = {"POINTSENGINE_ENDPOINT": POINT_ENGINE}


def parse_endpoints(given: Iterable[object]) -> list[str] | str:
    """The endpoints named, canonical and in table order; or what is wrong with one."""
    found = set()
    for value in given:
        name = str(value).strip().upper() if isinstance(value, str) else None
        name = _SPELLINGS.get(name or "", name)
        if name not in ENDPOINTS:
            return f"endPointsEnabled: {value!r} is not one of {', '.join(ENDPOINTS)}"
        found.add(name)
    return [e for e in ENDPOINTS if e in found]


def reaches(enabled: list[str] | None, endpoint: str) -> bool:
    """Whether a customer with this list (None: a real customer) reaches the endpoint."""
    return enabled is None or endpoint in enabled
