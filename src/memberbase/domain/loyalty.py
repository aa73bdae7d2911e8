"""Loyalty enrolment: which programme and tier a customer joins, and how it reads back.

A LOYALTY customer joins the org's default programme at its lowest tier. The
tier is held for a hundred years unless the programme says otherwise: the
hosted samples show `tier_expiry_date` a century after registration
("2024-08-01 07:28:32" -> "2124-08-01 23:59:59"), i.e. a base tier never lapses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from memberbase.domain.org_config import OrgConfig, Program, Tier

BASE_TIER_YEARS = 100


@dataclass(frozen=True)
class Enrolment:
    program_id: int
    tier_serial: int
    tier_expires_on: dt.datetime  # aware, UTC
    loyalty_points: int = 0
    lifetime_points: int = 0
    points_expire_on: dt.datetime | None = None


class EnrolmentView(NamedTuple):
    """An enrolment joined with its programme's tiers, for the renderers (a tuple: every
    customer read builds one, and a frozen dataclass costs several times as much)."""

    enrolment: Enrolment
    program: Program
    tier: Tier
    next_tier: Tier | None


def end_of_day(day: dt.date, org: OrgConfig) -> dt.datetime:
    """23:59:59 of `day` in the org's zone, as an aware UTC time."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=org.zone).astimezone(dt.UTC)


def tier_expiry(reached_on: dt.datetime, org: OrgConfig, tier: Tier | None = None) -> dt.datetime:
    """When a tier reached at `reached_on` lapses: its validity, its fixed date, else a century on."""
    local = reached_on.astimezone(org.zone).date()
    if tier is not None and tier.expires_on is not None:
        return end_of_day(tier.expires_on, org)
    if tier is not None and tier.validity_days is not None:
        return end_of_day(local + dt.timedelta(days=tier.validity_days), org)
    try:
        day = local.replace(year=local.year + BASE_TIER_YEARS)
    except ValueError:  # 29 February
        day = local.replace(year=local.year + BASE_TIER_YEARS, day=28)
    return end_of_day(day, org)


def programs_to_join(org: OrgConfig, till_code: str, every_program: bool) -> list[Program]:
    """mlp_single_enroll=true joins every programme; otherwise the till's, else the org's default."""
    if every_program:
        return list(org.programs)
    program = org.program_for_till(till_code)
    return [] if program is None else [program]


def enrolments_on_registration(
    org: OrgConfig, registered_on: dt.datetime, till_code: str = "", every_program: bool = False
) -> list[Enrolment]:
    """What a new LOYALTY customer joins: each programme at its lowest tier, no points yet."""
    return [
        Enrolment(p.id, p.lowest_tier.serial, tier_expiry(registered_on, org, p.lowest_tier))
        for p in programs_to_join(org, till_code, every_program)
    ]


def view(enrolment: Enrolment, org: OrgConfig) -> EnrolmentView | None:
    """None when the programme or tier was removed from the configuration since."""
    place = org.tier_places.get((enrolment.program_id, enrolment.tier_serial))
    return None if place is None else EnrolmentView(enrolment, *place)
