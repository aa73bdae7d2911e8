"""Reading the v1.1 `{"root":{"customer":[…]}}` envelope into domain drafts.

Shape problems of one item (a wrong JSON type, a control character, a date in
the wrong format) fail that item with code 400 and a message naming the field;
the other items of the batch go on. Only a body that is not the envelope at
all fails the whole request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from memberbase.domain.codes import Codes
from memberbase.domain.customer import CustomerDraft, Failure
from memberbase.domain.free_json import free_json_problem
from memberbase.domain.subscriptions import registration_opt_ins
from memberbase.domain.text import control_free_json, has_control

V11_DATETIME = "%Y-%m-%d %H:%M:%S"
YEARS = (1900, 2999)  # beyond these a date is a typo, and time-zone arithmetic overflows

_STRING_FIELDS = {
    "email": "email",
    "firstname": "firstname",
    "lastname": "lastname",
    "type": "type",
    "source": "source",
    "accountId": "account_id",
    "registered_till": "registered_till",
    "associated_with": "associated_with",
    "referral_code": "referral_code",
}
# Identifiers that tills also send as JSON numbers (the seed's own sample does).
_NUMBER_OK_FIELDS = {"mobile": "mobile", "external_id": "external_id"}
_DATE_FIELDS = {"registered_on": "registered_on", "updated_on": "updated_on"}
ECHO_FIELDS = ("mobile", "email", "external_id", "firstname", "lastname")


class ItemShapeError(ValueError):
    pass


def envelope_items(body: Any) -> list[Any] | None:
    """The customer items of a v1.1 body, or None when the body is not the envelope."""
    if not isinstance(body, dict):
        return None
    root = body.get("root")
    if not isinstance(root, dict):
        return None
    customers = root.get("customer")
    if isinstance(customers, dict):
        return [customers]  # clients send a lone customer as an object
    if isinstance(customers, list) and customers:
        return customers
    return None


def _control_free(value: str, name: str) -> str:
    if has_control(value):
        raise ItemShapeError(f"{name} contains a NUL or control character")
    return value


def _string(item: dict[str, Any], name: str, *, numbers: bool = False) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ItemShapeError(f"{name} must be a string")
    return _control_free(value, name)


def _datetime(item: dict[str, Any], name: str) -> dt.datetime | None:
    text = _string(item, name)
    if text is None or text.strip() == "":
        return None
    try:
        parsed = dt.datetime.strptime(text.strip(), V11_DATETIME)
    except ValueError as exc:
        raise ItemShapeError(f"{name} must be a date and time as YYYY-MM-DD HH:MM:SS") from exc
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise ItemShapeError(f"{name} must be between the years {YEARS[0]} and {YEARS[1]}")
    return parsed


def _name_value_pairs(item: dict[str, Any], name: str) -> list[tuple[str, object]]:
    container = item.get(name)
    if container is None:
        return []
    if not isinstance(container, dict):
        raise ItemShapeError(f"{name} must be an object with a 'field' list")
    fields = container.get("field", [])
    if isinstance(fields, dict):
        fields = [fields]
    if not isinstance(fields, list):
        raise ItemShapeError(f"{name}.field must be a list of {{name, value}} objects")
    pairs: list[tuple[str, object]] = []
    for entry in fields:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ItemShapeError(f"{name}.field entries must be {{name, value}} objects")
        value = entry.get("value")
        if isinstance(value, dict | list):
            raise ItemShapeError(f"{name}.field value of {entry['name']!r} must be a scalar")
        if isinstance(value, str):
            _control_free(value, f"{name}.{entry['name']}")
        pairs.append((_control_free(entry["name"], name), value))
    _within_limits(dict(pairs), name)
    return pairs


def _fraud_status(item: dict[str, Any]) -> str | None:
    """`{"status": …}` (the seeds' example), a bare string, or an array of either (seed 000's
    table types the field "Array"); an array holds one status, or the same one repeated."""
    value = item.get("fraud_status")
    entries = value if isinstance(value, list) else [value]
    found = {status for status in (_one_fraud_status(e) for e in entries) if status is not None}
    if len(found) > 1:
        raise ItemShapeError("fraud_status holds one status; the array names several")
    return found.pop() if found else None


def _one_fraud_status(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("status")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ItemShapeError('fraud_status must be {"status": …} or an array of them')
    return _control_free(value, "fraud_status")


def _comm_channels(item: dict[str, Any]) -> list[dict[str, Any]] | None:
    value = item.get("commChannels")
    if value is None:
        return None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise ItemShapeError("commChannels must be a list of objects")
    if not control_free_json(value):
        raise ItemShapeError("commChannels contains a NUL or control character")
    _within_limits(value, "commChannels")
    return value


def _within_limits(value: Any, name: str) -> None:
    problem = free_json_problem(value, name)
    if problem:
        raise ItemShapeError(problem)


def parse_item(item: Any) -> CustomerDraft | Failure:
    """A draft for one customer object, or a 400 item failure naming the field."""
    if not isinstance(item, dict):
        return Failure(Codes.ITEM_INPUT_INVALID, "each customer must be a JSON object")
    try:
        draft = CustomerDraft()
        for wire, attr in _STRING_FIELDS.items():
            setattr(draft, attr, _string(item, wire))
        for wire, attr in _NUMBER_OK_FIELDS.items():
            setattr(draft, attr, _string(item, wire, numbers=True))
        for wire, attr in _DATE_FIELDS.items():
            setattr(draft, attr, _datetime(item, wire))
        draft.fraud_status = _fraud_status(item)
        draft.comm_channels = _comm_channels(item)
        draft.custom_fields = [
            (name, "" if value is None else str(value))
            for name, value in _name_value_pairs(item, "custom_fields")
        ]
        draft.extended_fields = _name_value_pairs(item, "extended_fields")
        draft.opt_ins = registration_opt_ins(item)
    except ItemShapeError as problem:
        return Failure(Codes.ITEM_INPUT_INVALID, str(problem))
    return draft


def echo(item: Any) -> dict[str, object]:
    """What a failed item said about itself, so the caller can match it to its input."""
    if not isinstance(item, dict):
        return {}
    return {key: item.get(key) if isinstance(item.get(key), str | int) else None for key in ECHO_FIELDS}


def parse_update_item(item: Any) -> CustomerDraft | Failure:
    """A customer/update item: an add item that may name its customer by `id` instead."""
    draft = parse_item(item)
    if isinstance(draft, Failure):
        return draft
    raw = item.get("id")
    if raw is None or raw == "":
        if not any((draft.mobile, draft.email, draft.external_id)):
            return Failure(Codes.NO_IDENTIFIER)
        return draft
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return Failure(Codes.ITEM_INPUT_INVALID, "id must be a customer id (digits)")
    draft.customer_id = int(text)
    return draft
