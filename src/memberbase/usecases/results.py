"""What a customer use case hands back to an HTTP adapter, whatever the API version."""

from __future__ import annotations

from dataclasses import dataclass, field

from memberbase.domain.codes import Code
from memberbase.domain.customer import CustomerRecord, Failure, Warning_
from memberbase.domain.loyalty import Enrolment
from memberbase.domain.rewards import CouponAward, CurrencyAward, PointsAward
from memberbase.storage.rewards import HeldCoupon


@dataclass(frozen=True)
class PointsEffect:
    award: PointsAward
    total_points: int  # the earner's balance in the programme after the award


@dataclass(frozen=True)
class CouponEffect:
    award: CouponAward
    coupon_id: int
    code: str


@dataclass(frozen=True)
class CurrencyEffect:
    award: CurrencyAward
    balance: int


Effect = PointsEffect | CouponEffect | CurrencyEffect


@dataclass
class CustomerView:
    record: CustomerRecord
    enrolments: list[Enrolment]
    referral_code: str | None = None  # read APIs only
    coupons: list[HeldCoupon] = field(default_factory=list)  # read APIs only


@dataclass
class ItemResult:
    """One item of a batch: a customer with the success code, or a failure.

    `echo` carries what the request said about the item, so a failed item can
    still be matched back to the input by the caller.
    """

    success: Code | None = None
    customer: CustomerView | None = None
    failure: Failure | None = None
    warnings: list[Warning_] = field(default_factory=list)
    echo: dict[str, object] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None
