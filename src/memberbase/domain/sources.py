"""Sources a customer can be registered from, and the org's source accounts."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

SOURCES = (
    "INSTORE",
    "FACEBOOK",
    "WEB_ENGAGE",
    "WECHAT",
    "MARTJACK",
    "TMALL",
    "TAOBAO",
    "JD",
    "ECOMMERCE",
    "WEBSITE",
    "LINE",
    "MOBILE_APP",
)
# Seed 000 spells sources as people write them ("WebEngage", "E-commerce", "Mobile App",
# "InStore", "WeChat", "Line"): compared by letters and digits only, whatever the case.
_BY_LETTERS = {re.sub(r"[^A-Z0-9]", "", s): s for s in (*SOURCES, "ALL", "MAPP_SDK")}


def canonical_source(given: str) -> str:
    """The source's name as memberbase spells it (`WEB_ENGAGE` for "WebEngage"); a name that
    is no source comes back stripped and upper-cased, for the caller's error to quote."""
    upper = given.strip().upper()
    return _BY_LETTERS.get(re.sub(r"[^A-Z0-9]", "", upper), upper)


# A customer has one account per accountId in these; elsewhere one account per source.
MULTI_ACCOUNT_SOURCES = frozenset({"FACEBOOK", "WEB_ENGAGE", "WECHAT", "MOBILE_APP", "LINE"})


class SourceAccounts(BaseModel):
    """One source of the org; for a multi-account source, the account ids it has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    accounts: tuple[Annotated[str, Field(max_length=100)], ...] = Field(default=())

    @field_validator("source")
    @classmethod
    def _known(cls, value: str) -> str:
        upper = canonical_source(value)
        if upper not in SOURCES:
            raise ValueError(f"unknown source {value!r}; known: {', '.join(SOURCES)}")
        return upper

    @field_validator("accounts")
    @classmethod
    def _non_empty(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("account ids must not be empty")
        return values

    @property
    def multi_account(self) -> bool:
        return self.source in MULTI_ACCOUNT_SOURCES


def account_of(source: str, account_id: str | None) -> str:
    """The account id a profile is keyed by: single-account sources have just one ("").

    Tills send store ids as accountId with INSTORE (the v1.1 seed does); that is not an account.
    """
    return (account_id or "").strip() if source in MULTI_ACCOUNT_SOURCES else ""
