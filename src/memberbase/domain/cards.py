"""Card series: how an org's loyalty cards are numbered and which statuses they may have.

A series either takes numbers the till supplies (checked for length and prefix)
or generates them: prefix + zero-padded sequence + a Luhn (MOD 10) check digit,
the hosted API's LUHN_ALGO, so a mistyped card number is caught at the till.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

CARD_NUMBER_MAX = 50


class CardSeries(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(ge=1)
    code: str = Field(min_length=1, max_length=50)
    number_length: int = Field(ge=4, le=CARD_NUMBER_MAX)
    prefix: str = Field("", pattern=r"^[0-9A-Za-z]*$", max_length=20)
    status_labels: tuple[str, ...] = Field(("ACTIVE",), min_length=1)
    generate: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CardSeries:
        if len(self.prefix) >= self.number_length - 1:
            raise ValueError(f"card series {self.id}: prefix leaves no room for a sequence and check digit")
        if self.generate and not self.prefix.isdigit() and self.prefix:
            raise ValueError(f"card series {self.id}: generated numbers need a numeric prefix")
        return self

    @property
    def sequence_digits(self) -> int:
        return self.number_length - len(self.prefix) - 1

    def accepts(self, number: str) -> bool:
        """Whether a supplied number fits this series (length and prefix; Luhn when generated)."""
        if len(number) != self.number_length or not number.startswith(self.prefix):
            return False
        return not self.generate or luhn_valid(number)

    def generated(self, sequence: int) -> str:
        if sequence >= 10**self.sequence_digits:
            raise OverflowError(f"card series {self.id} has no numbers left")
        body = f"{self.prefix}{sequence:0{self.sequence_digits}d}"
        return body + str(luhn_check_digit(body))

    def label(self, wanted: str) -> str | None:
        """The series' own spelling of `wanted`, or None when it is not one of its labels (a
        card is issued with the label the caller names: seed 003 requires one)."""
        return next((s for s in self.status_labels if s.lower() == wanted.lower()), None)


def luhn_check_digit(body: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(body)):
        digit = int(ch)
        if i % 2 == 0:  # the digit next to the check digit is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == int(number[-1])
