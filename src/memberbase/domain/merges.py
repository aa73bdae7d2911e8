"""What may be merged, and what may be unmerged: the blockers. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memberbase.domain.codes import V2Codes
from memberbase.domain.customer import CustomerRecord, Failure
from memberbase.domain.merge_rules import MergeRules


@dataclass(frozen=True)
class Holdings:
    """What a customer holds that the caps count."""

    identifiers: int  # identifier claims, cards included
    merges: int  # merges it survived and that were not undone


def merge_blockers(
    survivor: CustomerRecord | None,
    victim: CustomerRecord | None,
    held: dict[int, Holdings],
    rules: MergeRules,
) -> list[Failure]:
    """Every reason the merge of `victim` into `survivor` is refused (empty: it may go ahead)."""
    if survivor is None or victim is None:
        return [Failure(V2Codes.CUSTOMER_NOT_FOUND, "survivor" if survivor is None else "victim")]
    found: list[Failure] = []
    if survivor.id == victim.id:
        found.append(Failure(V2Codes.MERGE_INTO_ITSELF))
    for role, customer in (("victim", victim), ("survivor", survivor)):
        if customer.erased_at is not None:
            found.append(Failure(V2Codes.CUSTOMER_ERASED, f"the {role}, customer {customer.id}"))
        if customer.merged_into is not None:
            found.append(Failure(V2Codes.MERGE_ALREADY_DONE, role, (customer.merged_into,)))
    together = held[survivor.id].identifiers + held[victim.id].identifiers
    if survivor.id != victim.id and together > rules.max_identifiers_per_customer:
        found.append(
            Failure(
                V2Codes.MERGE_IDENTIFIER_CAP,
                f"{together} identifiers together, the limit is {rules.max_identifiers_per_customer}",
            )
        )
    if held[survivor.id].merges >= rules.max_merges_per_customer:
        found.append(
            Failure(V2Codes.MERGE_COUNT_CAP, f"customer {survivor.id} has {held[survivor.id].merges} merges")
        )
    return found


def undo_blockers(moved: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Why a merge cannot be undone, given what it moved and what the survivor holds now."""
    found: list[str] = []
    if state["survivor_merged_into"] is not None:
        found.append(f"the survivor was since merged into customer {state['survivor_merged_into']}")
    gone = [f"{t}:{v}" for t, v in moved.get("identifiers", []) if (t, v) not in state["identifiers"]]
    if gone:
        found.append(f"identifiers no longer the survivor's: {', '.join(gone)}")
    cards = [c for c in moved.get("cards", []) if c not in state["cards"]]
    if cards:
        found.append(f"cards no longer the survivor's: {', '.join(cards)}")
    coupons = [str(c) for c in moved.get("coupons", []) if c not in state["coupons"]]
    if coupons:
        found.append(f"coupons no longer the survivor's: {', '.join(coupons)}")
    for entry in moved.get("enrolments", []):
        program = entry["programId"]
        balance = state["points"].get(program)
        if entry["moved"] and balance is None:
            found.append(f"the enrolment in programme {program} is no longer the survivor's")
        elif not entry["moved"] and (balance or 0) < entry["points"]:
            found.append(
                f"points of programme {program} were spent since ({balance} left, {entry['points']} moved)"
            )
    for currency in moved.get("currencies", []):
        held = state["currencies"].get(currency["identifier"], 0)
        if held < currency["value"]:
            found.append(f"{currency['identifier']} was spent since ({held} left, {currency['value']} moved)")
    return found
