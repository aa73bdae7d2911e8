"""Communication subscriptions: channels, priorities, opt-in state and what a change does.

A customer's state is kept per channel x priority x source account. A channel and
priority the customer never touched is NOT_SET, which counts as subscribed (the
hosted API reads it `subscribed: "ALL"`). Both API versions name things their own
way; everything here works on the canonical names below and maps the wire spellings
onto them, in any case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memberbase.domain.codes import Code, Codes
from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.sources import SOURCES, account_of, canonical_source
from memberbase.domain.text import has_control

# Canonical channel names. v1.1 says SMS where v2 says MOBILE; both mean the mobile number.
CHANNELS = ("SMS", "EMAIL", "WECHAT", "WHATSAPP", "IOS", "ANDROID", "LINE", "MOBILEPUSH")
_ALIASES = {"MOBILE": "SMS", "MOBILE_PUSH": "MOBILEPUSH"}
_V2_NAMES = {"SMS": "MOBILE"}
PRIORITIES = ("TRANS", "BULK")
# What v1.1 lists for every customer, touched or not: the two channels its POST documents.
V11_LISTED = ("SMS", "EMAIL")
DEFAULT_SOURCE = "INSTORE"

SUBSCRIBED = "SUBSCRIBED"
UNSUBSCRIBED = "UNSUBSCRIBED"
NOT_SET = "NOT_SET"
OPTIN = "OPTIN"
OPTOUT = "OPTOUT"

REASON_MAX = 500
CONSENT_TEXT_MAX = 2000
CONSENT_VERSION_MAX = 100


@dataclass(frozen=True, order=True)
class SubscriptionKey:
    channel: str
    priority: str
    source: str = DEFAULT_SOURCE
    account_id: str = ""


@dataclass(frozen=True)
class Evidence:
    """What the caller said about a change, kept in the consent log with it."""

    reason: str | None = None
    consent_text: str | None = None
    consent_version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # campaignId, communicationId, orgUnitId, scope


@dataclass(frozen=True)
class Instruction:
    key: SubscriptionKey
    subscribed: bool
    evidence: Evidence = Evidence()


@dataclass(frozen=True)
class Change:
    """One instruction applied: the state before it (None: never set) and after it."""

    instruction: Instruction
    previous: bool | None

    @property
    def key(self) -> SubscriptionKey:
        return self.instruction.key

    @property
    def subscribed(self) -> bool:
        return self.instruction.subscribed

    @property
    def changed(self) -> bool:
        return self.previous is not self.instruction.subscribed


def canonical_channel(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip().upper()
    name = _ALIASES.get(name, name)
    return name if name in CHANNELS else None


def v2_channel_name(channel: str) -> str:
    return _V2_NAMES.get(channel, channel)


def canonical_priority(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip().upper()
    return name if name in PRIORITIES else None


def v11_status(value: object) -> bool | None:
    """`is_subscribed` "1"/"0" (JSON numbers too) as subscribed or not; None when neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    return None


def v2_type(value: object) -> bool | None:
    """OPTIN/OPTOUT as subscribed or not; None when neither."""
    if not isinstance(value, str):
        return None
    name = value.strip().upper()
    return {OPTIN: True, OPTOUT: False}.get(name)


def v11_scope_ok(value: object) -> bool:
    """v1.1 scope is "all" (any case) or absent."""
    return value is None or (isinstance(value, str) and value.strip().upper() in ("", "ALL"))


def preference(state: bool | None) -> str:
    if state is None:
        return NOT_SET
    return SUBSCRIBED if state else UNSUBSCRIBED


def type_of(state: bool | None) -> str:
    """v2's word for a state; NOT_SET where never set."""
    return NOT_SET if state is None else (OPTIN if state else OPTOUT)


def effective(state: bool | None) -> bool:
    """Whether messages may go: never set means subscribed by default."""
    return state is None or state


def source_account(source: object, account_id: object, org: OrgConfig) -> tuple[str, str] | Failure:
    """The source account an instruction names (INSTORE when none), checked against the org."""
    if source is None or (isinstance(source, str) and not source.strip()):
        name = DEFAULT_SOURCE
    elif isinstance(source, str) and canonical_source(source) in SOURCES:
        name = canonical_source(source)
    else:
        return Failure(Codes.SOURCE_INVALID, f"{source!r} is not one of {', '.join(SOURCES)}")
    if account_id is not None and not isinstance(account_id, str | int):
        return Failure(Codes.SOURCE_INVALID, "accountId must be a string")
    account = account_of(name, None if account_id is None else str(account_id))
    problem = org.source_problem(name, account)
    if problem is not None:
        return Failure(Codes.SOURCE_INVALID, problem)
    return name, account


def text_problem(value: object, name: str, limit: int) -> str | None:
    """Why an optional free-text value is refused (type, control characters, length), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be a string"
    if has_control(value):
        return f"{name} contains a NUL or control character"
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    return None


@dataclass(frozen=True)
class ItemIn:
    """One instruction as read off the wire, its status already decoded (None: neither value)."""

    channel: object
    priority: object
    subscribed: bool | None
    source: object = None
    account_id: object = None
    scope_ok: bool = True
    evidence: Evidence = Evidence()


def to_instruction(item: ItemIn, org: OrgConfig) -> Instruction | Failure:
    """The change an item asks for, or the first code that refuses it."""
    if not item.scope_ok:
        return Failure(Codes.SUBSCRIPTION_SCOPE_INVALID, "scope must be ALL")
    channel = canonical_channel(item.channel)
    if channel is None:
        return _refuse(Codes.SUBSCRIPTION_CHANNEL_INVALID, item.channel, ", ".join(CHANNELS))
    priority = canonical_priority(item.priority)
    if priority is None:
        return _refuse(Codes.SUBSCRIPTION_PRIORITY_INVALID, item.priority, ", ".join(PRIORITIES))
    if item.subscribed is None:
        return Failure(Codes.SUBSCRIPTION_STATUS_INVALID)
    account = source_account(item.source, item.account_id, org)
    if isinstance(account, Failure):
        return account
    return Instruction(SubscriptionKey(channel, priority, *account), item.subscribed, item.evidence)


def _refuse(code: Code, value: object, known: str) -> Failure:
    shown = "none passed" if value is None else f"{value!r}"
    return Failure(code, f"{shown}; use one of {known}")


def apply(current: dict[SubscriptionKey, bool], instructions: list[Instruction]) -> list[Change]:
    """The changes the instructions make, in order, to the `current` states (updated in place).

    Every instruction is a change in the consent log, even one that confirms the state
    already held (its evidence counts); `Change.changed` says whether the state moved.
    """
    changes = []
    for item in instructions:
        changes.append(Change(item, current.get(item.key)))
        current[item.key] = item.subscribed
    return changes


def listed(
    states: dict[SubscriptionKey, bool],
    source: str,
    account_id: str,
    channels: tuple[str, ...] | None = None,
    priorities: tuple[str, ...] = PRIORITIES,
) -> list[tuple[str, list[tuple[str, bool | None]]]]:
    """The channels and priorities to show for one source account, with their states.

    Without a channel filter: SMS and EMAIL always, then every other channel with a state.
    """
    mine = {
        (k.channel, k.priority): v
        for k, v in states.items()
        if (k.source, k.account_id) == (source, account_id)
    }
    if channels is None:
        touched = {channel for channel, _ in mine}
        channels = (*V11_LISTED, *(c for c in CHANNELS if c in touched and c not in V11_LISTED))
    return [(c, [(p, mine.get((c, p))) for p in priorities]) for c in channels]


def registration_opt_ins(item: dict[str, Any]) -> list[ItemIn]:
    """The opt-ins of a v1.1 customer/add item, `subscriptions.subscription[]` (INSTORE unless an
    entry names its source). Entries are not checked here: a bad one becomes a warning."""
    container = item.get("subscriptions")
    entries = container.get("subscription") if isinstance(container, dict) else None
    if isinstance(entries, dict):
        entries = [entries]  # a lone entry (and XML with one element)
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        values = entry if isinstance(entry, dict) else {}
        found.append(
            ItemIn(
                channel=values.get("channel"),
                priority=values.get("priority"),
                subscribed=v11_status(values.get("is_subscribed")),
                source=values.get("source"),
                account_id=values.get("accountId"),
                scope_ok=v11_scope_ok(values.get("scope")),
            )
        )
    return found


# A v2 registration's `commChannels[].subscribed` speaks of the org's newsletters: bulk messages.
COMM_CHANNEL_PRIORITY = "BULK"


def comm_channel_opt_ins(
    comm_channels: list[dict[str, Any]] | None, source: str, account_id: str
) -> list[ItemIn]:
    """The opt-ins a v2 profile's comm channels state with `subscribed` (true or false)."""
    found = []
    for channel in comm_channels or []:
        if not isinstance(channel, dict) or "subscribed" not in channel:
            continue
        flag = channel["subscribed"]
        if isinstance(flag, str) and flag.strip().lower() in ("true", "false"):
            flag = flag.strip().lower() == "true"
        found.append(
            ItemIn(
                channel=channel.get("type"),
                priority=COMM_CHANNEL_PRIORITY,
                subscribed=flag if isinstance(flag, bool) else None,
                source=source,
                account_id=account_id,
            )
        )
    return found
