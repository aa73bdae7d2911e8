"""Loyalty enrolment: which programme and tier a customer joins, and how it reads back.

A LOYALTY customer joins the org's default programme at its lowest tier. The
tier is held for a hundred years unless the programme says otherwise: the
hosted samples show `tier_expiry_date` a century after registration
("2024-08-01 07:28:32" -> "2124-08-01 23:59:59"), i.e. a base tier never lapses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class EnrolmentView:
    """An enrolment joined with its programme's tiers, for the renderers."""

    enrolment: Enrolment
    program: Program
    tier: Tier
    next_tier: Tier | None


def tier_expiry(registered_on: dt.datetime, org: OrgConfig) -> dt.datetime:
    """End of the registration day, a hundred years on, in the org's zone."""
    local = registered_on.astimezone(org.zone).date()
    try:
        day = local.replace(year=local.year + BASE_TIER_YEARS)
    except ValueError:  # 29 February
        day = local.replace(year=local.year + BASE_TIER_YEARS, day=28)
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=org.zone)
    return end.astimezone(dt.UTC)


def enrolment_on_registration(org: OrgConfig, registered_on: dt.datetime) -> Enrolment | None:
    """The enrolment a new LOYALTY customer gets, or None when the org has no programme."""
    program = org.default_program
    if program is None:
        return None
    return Enrolment(program.id, program.lowest_tier.serial, tier_expiry(registered_on, org))


def view(enrolment: Enrolment, org: OrgConfig) -> EnrolmentView | None:
    """None when the programme or tier was removed from the configuration since."""
    program = next((p for p in org.programs if p.id == enrolment.program_id), None)
    if program is None:
        return None
    tier = program.tier(enrolment.tier_serial)
    if tier is None:
        return None
    return EnrolmentView(enrolment, program, tier, program.tier_after(tier.serial))
