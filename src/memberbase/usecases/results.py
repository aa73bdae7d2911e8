"""What a customer use case hands back to an HTTP adapter, whatever the API version."""

from __future__ import annotations

from dataclasses import dataclass, field

from memberbase.domain.codes import Code
from memberbase.domain.customer import CustomerRecord, Failure, Warning_
from memberbase.domain.loyalty import Enrolment


@dataclass
class CustomerView:
    record: CustomerRecord
    enrolments: list[Enrolment]


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

    @property
    def ok(self) -> bool:
        return self.failure is None
