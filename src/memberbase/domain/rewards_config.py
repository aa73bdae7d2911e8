"""What registration earns, as an org configures it: rewards, coupon series, referral campaigns.

Each reward is one thing (points, an alternate currency or a coupon) with an id,
the rule id that reports and the ledger carry, so an operator can trace every
award back to the line of configuration that made it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CustomerTypeName = Literal["LOYALTY", "NON_LOYALTY"]

# '#' is a random digit, '*' a random letter or digit; anything else is literal.
COUPON_RANDOM_MARKS = "#*"
MIN_RANDOM_POSITIONS = 6  # fewer would make codes guessable and collide


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rounding(_Frozen):
    """How an unrounded award becomes whole points (hosted: rawAwardedPoints vs awardedPoints)."""

    mode: Literal["nearest", "down", "up"] = "nearest"

    def apply(self, raw: Decimal) -> int:
        how = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}[self.mode]
        return int(raw.quantize(Decimal(1), rounding=how))


class PointsExpiry(_Frozen):
    """Awarded points lapse `days` after the award, or on a fixed date; neither: never."""

    days: int | None = Field(None, ge=1, le=36500)
    on: dt.date | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PointsExpiry:
        if self.days is not None and self.on is not None:
            raise ValueError("points_expiry: give days or on, not both")
        return self


class AlternateCurrencyAward(_Frozen):
    identifier: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=100)
    value: Decimal = Field(gt=0, max_digits=15, decimal_places=3)


class Reward(_Frozen):
    """One reward rule. Exactly one of points, alternate_currency, coupon_series."""

    id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    points: Decimal | None = Field(None, gt=0, max_digits=15, decimal_places=3)
    alternate_currency: AlternateCurrencyAward | None = None
    coupon_series: int | None = None
    # Limits: which registrations earn it. Empty sources: every source.
    sources: tuple[str, ...] = ()
    customer_types: tuple[CustomerTypeName, ...] = ("LOYALTY",)
    # A v2 registration that adds a source account to an existing customer earns it too (once).
    on_merge: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Reward:
        given = [self.points is not None, self.alternate_currency is not None, self.coupon_series is not None]
        if sum(given) != 1:
            raise ValueError("a reward is exactly one of points, alternate_currency, coupon_series")
        if self.points is not None and "NON_LOYALTY" in self.customer_types:
            raise ValueError("points need a loyalty enrolment: a points reward cannot list NON_LOYALTY")
        if not self.customer_types:
            raise ValueError("customer_types must not be empty (omit it for LOYALTY)")
        return self

    @property
    def kind(self) -> str:
        if self.points is not None:
            return "points"
        return "alternate_currency" if self.alternate_currency is not None else "coupon"


class CouponSeries(_Frozen):
    id: int = Field(ge=1)
    description: str = Field(min_length=1, max_length=200)
    coupon_type: str = Field("PE", min_length=1, max_length=20)
    discount_code: str = Field("NO_VALUE", min_length=1, max_length=50)
    discount_value: Decimal | None = Field(None, ge=0)
    code_pattern: str = Field("********", min_length=MIN_RANDOM_POSITIONS, max_length=40)
    validity_days: int = Field(ge=1, le=3650)

    @model_validator(mode="after")
    def _random_enough(self) -> CouponSeries:
        if sum(c in COUPON_RANDOM_MARKS for c in self.code_pattern) < MIN_RANDOM_POSITIONS:
            raise ValueError(
                f"coupon series {self.id}: code_pattern needs at least {MIN_RANDOM_POSITIONS} "
                "random positions ('#' digit, '*' letter or digit)"
            )
        return self


class ReferralCampaign(_Frozen):
    """Registering with a customer's referral code rewards the new customer and the referrer."""

    id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    program_id: int | None = None  # whose points; none: the org's default programme
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    sources: tuple[str, ...] = ()  # the new customer's source; empty: every source
    max_referrals: int | None = Field(None, ge=1)  # per referrer
    referee_rewards: tuple[Reward, ...] = ()
    referrer_rewards: tuple[Reward, ...] = ()

    @model_validator(mode="after")
    def _dates(self) -> ReferralCampaign:
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            raise ValueError(f"referral campaign {self.id}: starts_on is after ends_on")
        return self

    def active_on(self, day: dt.date, source: str) -> bool:
        if self.starts_on is not None and day < self.starts_on:
            return False
        if self.ends_on is not None and day > self.ends_on:
            return False
        return not self.sources or source in self.sources
