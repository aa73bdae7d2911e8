"""Requests that wait for approval: what a merge request names, and how its status may move.

A new request is PENDING. PENDING becomes APPROVED (the merge runs) or REJECTED; a
REJECTED request goes back to PENDING before it can be approved (the hosted rule); an
APPROVED one is final. Whoever created a request cannot approve it (9051), unless the
request was auto-approved at creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import Failure

MERGE = ("CHANGE_IDENTIFIER", "MERGE")
DELETE = ("CUSTOMER", "DELETE")
PENDING, APPROVED, REJECTED, CANCELLED = "PENDING", "APPROVED", "REJECTED", "CANCELLED"
_MOVES = {PENDING: {APPROVED, REJECTED}, REJECTED: {PENDING}, APPROVED: set(), CANCELLED: set()}
# A deletion may also be cancelled while it waits (the hosted PII-deletion page).
_DELETE_MOVES = {**_MOVES, PENDING: {APPROVED, REJECTED, CANCELLED}, APPROVED: {CANCELLED}}


@dataclass(frozen=True)
class MergeAsked:
    victim_id: int
    survivor_id: int
    comments: str | None


def _id(value: Any) -> int | None:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def read_merge_request(body: Any) -> MergeAsked | Failure:
    """The hosted shape (type, baseType, userId = victim, changeIdentifierRequest's add/remove of
    type "id"), or memberbase's plain `victimId`/`survivorId`."""
    if not isinstance(body, dict):
        return Failure(V2Codes.INPUT_INVALID, "the body must be a JSON object")
    if str(body.get("type", "CHANGE_IDENTIFIER")).upper() != MERGE[0]:
        return Failure(V2Codes.REQUEST_TYPE_INVALID, "type must be CHANGE_IDENTIFIER")
    if str(body.get("baseType", "MERGE")).upper() != MERGE[1]:
        return Failure(V2Codes.REQUEST_BASE_TYPE_INVALID, "baseType must be MERGE")
    change = body.get("changeIdentifierRequest") or {}
    identifiers = change.get("changeIdentifiers", {}) if isinstance(change, dict) else {}
    if not isinstance(identifiers, dict):
        identifiers = {}

    def named(side: str) -> Any:
        found = identifiers.get(side) or []
        return next((i.get("value") for i in found if isinstance(i, dict) and i.get("type") == "id"), None)

    victim = _id(body.get("victimId", body.get("userId", named("remove"))))
    survivor = _id(body.get("survivorId", named("add")))
    if victim is None or survivor is None:
        return Failure(
            V2Codes.REQUEST_INSUFFICIENT, "name the victim (userId) and the survivor (add of type id)"
        )
    comments = body.get("comments")
    if comments is not None and (not isinstance(comments, str) or len(comments) > 255):
        return Failure(V2Codes.INPUT_INVALID, "comments must be text of at most 255 characters")
    return MergeAsked(victim, survivor, comments)


@dataclass(frozen=True)
class DeleteAsked:
    source: str | None
    identifier_name: str | None
    identifier_value: str | None
    comments: str | None


def read_delete_request(body: dict[str, Any]) -> DeleteAsked | Failure:
    """`{type: CUSTOMER, baseType: DELETE, source, identifierType, identifierValue, comments}`."""
    comments = body.get("comments")
    if comments is not None and (not isinstance(comments, str) or len(comments) > 255):
        return Failure(V2Codes.INPUT_INVALID, "comments must be text of at most 255 characters")
    texts = [body.get(k) for k in ("source", "identifierType", "identifierValue")]
    if not all(isinstance(v, str) and v.strip() for v in texts):
        return Failure(V2Codes.REQUEST_INSUFFICIENT, "pass source, identifierType and identifierValue")
    return DeleteAsked(texts[0], texts[1], texts[2], comments)


def request_kind(body: Any) -> tuple[str, str] | Failure:
    """The (type, baseType) a request body names: a merge unless it says CUSTOMER/DELETE."""
    if not isinstance(body, dict):
        return Failure(V2Codes.INPUT_INVALID, "the body must be a JSON object")
    kind = (str(body.get("type", MERGE[0])).upper(), str(body.get("baseType", MERGE[1])).upper())
    if kind[0] not in (MERGE[0], DELETE[0]):
        return Failure(V2Codes.REQUEST_TYPE_INVALID, "type must be CHANGE_IDENTIFIER or CUSTOMER")
    if kind not in (MERGE, DELETE):
        return Failure(
            V2Codes.REQUEST_BASE_TYPE_INVALID,
            "baseType must be MERGE (CHANGE_IDENTIFIER) or DELETE (CUSTOMER)",
        )
    return kind


def status_move(current: str, wanted: Any, *, deletion: bool = False) -> str | Failure:
    moves = _DELETE_MOVES if deletion else _MOVES
    if not isinstance(wanted, str) or wanted.upper() not in moves:
        return Failure(
            V2Codes.REQUEST_STATUS_INVALID, "status must be APPROVED, REJECTED, PENDING or CANCELLED"
        )
    target = wanted.upper()
    if target not in moves[current]:
        return Failure(V2Codes.REQUEST_STATUS_INVALID, f"a {current} request cannot become {target}")
    return target
