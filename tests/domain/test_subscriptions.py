"""Subscription rules without a database: names, statuses, transitions, what v1.1 lists."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from memberbase.domain.codes import Codes
from memberbase.domain.customer import Failure
from memberbase.domain.org_config import OrgConfig
from memberbase.domain.subscriptions import (
    CHANNELS,
    Instruction,
    ItemIn,
    SubscriptionKey,
    apply,
    canonical_channel,
    canonical_priority,
    effective,
    listed,
    preference,
    to_instruction,
    v2_type,
    v11_scope_ok,
    v11_status,
)
from memberbase.http.v1_1.subscriptions_wire import SubscriptionsBodyWire, envelope_items, parse_item
from memberbase.usecases.subscriptions import V11Item

ORG = OrgConfig.model_validate(
    {
        "id": 1,
        "name": "t",
        "sources": [{"source": "INSTORE"}, {"source": "WECHAT", "accounts": ["wx-1"]}],
    }
)


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [
        ("sms", "SMS"),
        ("MOBILE", "SMS"),
        ("Email", "EMAIL"),
        (" wechat ", "WECHAT"),
        ("mobile_push", "MOBILEPUSH"),
    ],
)
def test_channels_in_any_case_and_v2_names(wire: str, canonical: str) -> None:
    assert canonical_channel(wire) == canonical


@given(st.text())
def test_a_channel_is_canonical_or_refused(value: str) -> None:
    assert canonical_channel(value) in (*CHANNELS, None)


@pytest.mark.parametrize("value", [None, 1, ["SMS"], "", "POSTMAIL"])
def test_unknown_channels_are_none(value: object) -> None:
    assert canonical_channel(value) is None


def test_priorities_statuses_and_scope() -> None:
    assert (canonical_priority("trans"), canonical_priority("BULK"), canonical_priority("URGENT")) == (
        "TRANS",
        "BULK",
        None,
    )
    assert [v11_status(v) for v in ("1", "0", 1, 0, " 1 ", True, "yes", None)] == [
        True,
        False,
        True,
        False,
        True,
        None,
        None,
        None,
    ]
    assert [v2_type(v) for v in ("OPTIN", "optout", "OPT_IN", None)] == [True, False, None, None]
    assert [v11_scope_ok(v) for v in (None, "all", "ALL", "", "user", 1)] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_never_set_reads_not_set_and_counts_as_subscribed() -> None:
    assert [preference(s) for s in (None, True, False)] == ["NOT_SET", "SUBSCRIBED", "UNSUBSCRIBED"]
    assert [effective(s) for s in (None, True, False)] == [True, True, False]


def test_each_instruction_is_a_change_against_the_state_before_it() -> None:
    key = SubscriptionKey("SMS", "BULK")
    current: dict[SubscriptionKey, bool] = {}
    changes = apply(current, [Instruction(key, False), Instruction(key, False), Instruction(key, True)])
    assert [(c.previous, c.subscribed, c.changed) for c in changes] == [
        (None, False, True),
        (False, False, False),
        (False, True, True),
    ]
    assert current == {key: True}


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (ItemIn("sms", "BULK", True, scope_ok=False), Codes.SUBSCRIPTION_SCOPE_INVALID),
        (ItemIn("fax", "BULK", True), Codes.SUBSCRIPTION_CHANNEL_INVALID),
        (ItemIn("sms", "LOW", True), Codes.SUBSCRIPTION_PRIORITY_INVALID),
        (ItemIn("sms", "BULK", None), Codes.SUBSCRIPTION_STATUS_INVALID),
        (ItemIn("sms", "BULK", True, source="MARS"), Codes.SOURCE_INVALID),
        (ItemIn("sms", "BULK", True, source="WECHAT"), Codes.SOURCE_INVALID),
        (ItemIn("sms", "BULK", True, source="WECHAT", account_id="wx-9"), Codes.SOURCE_INVALID),
    ],
)
def test_the_first_problem_decides_the_code(item: ItemIn, code: object) -> None:
    refused = to_instruction(item, ORG)
    assert isinstance(refused, Failure)
    assert refused.code is code


def test_a_valid_item_names_its_source_account() -> None:
    made = to_instruction(ItemIn("Mobile", "trans", False, source="wechat", account_id="wx-1"), ORG)
    assert made == Instruction(SubscriptionKey("SMS", "TRANS", "WECHAT", "wx-1"), False)
    instore = to_instruction(ItemIn("email", "BULK", True, account_id="store-9"), ORG)
    assert isinstance(instore, Instruction)
    assert (instore.key.source, instore.key.account_id) == ("INSTORE", "")  # INSTORE has one account


def test_v1_1_lists_sms_and_email_then_touched_channels_of_the_account() -> None:
    states = {
        SubscriptionKey("WHATSAPP", "BULK"): False,
        SubscriptionKey("LINE", "BULK", "WECHAT", "wx-1"): True,
    }
    shown = listed(states, "INSTORE", "")
    assert [c for c, _ in shown] == ["SMS", "EMAIL", "WHATSAPP"]
    assert shown[2][1] == [("TRANS", None), ("BULK", False)]
    assert listed(states, "INSTORE", "", ("EMAIL",), ("BULK",)) == [("EMAIL", [("BULK", None)])]


# The documented sample and its variants: the schema model and the route's own parser agree.
SAMPLE: dict[str, Any] = {
    "root": {
        "subscription": [
            {
                "mobile": "919999999999",
                "priority": "TRANS",
                "scope": "all",
                "channel": "sms",
                "is_subscribed": "0",
            },
            {
                "email": "a@b.com",
                "priority": "BULK",
                "scope": "all",
                "channel": "email",
                "is_subscribed": "1",
            },
        ]
    }
}
REFUSED: list[dict[str, Any]] = [
    {"root": {"subscription": []}},
    {
        "root": {
            "subscription": [{"mobile": "1", "channel": ["sms"], "priority": "TRANS", "is_subscribed": "0"}]
        }
    },
    {
        "root": {
            "subscription": [
                {
                    "mobile": "1",
                    "channel": "sms",
                    "priority": "TRANS",
                    "is_subscribed": "0",
                    "reason": "r" * 501,
                }
            ]
        }
    },
]


def _parsed(body: dict[str, Any]) -> list[V11Item | Failure] | None:
    items = envelope_items(body)
    return None if items is None else [parse_item(i) for i in items]


def test_the_schema_and_the_parser_accept_the_documented_sample() -> None:
    SubscriptionsBodyWire.model_validate(SAMPLE)
    parsed = _parsed(SAMPLE)
    assert parsed is not None
    assert all(isinstance(p, V11Item) for p in parsed)


@pytest.mark.parametrize("body", REFUSED)
def test_the_schema_and_the_parser_refuse_alike(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SubscriptionsBodyWire.model_validate(body)
    parsed = _parsed(body)
    assert parsed is None or any(isinstance(p, Failure) for p in parsed)
