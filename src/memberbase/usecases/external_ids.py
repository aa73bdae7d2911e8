"""Giving a new customer a generated external id, where its org asks for one (domain/external_ids.py)."""

from __future__ import annotations

from memberbase.domain.customer import Failure
from memberbase.domain.external_ids import EXTERNAL_ID_SEQUENCE, generated_external_id, generates_external_id
from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.storage.cards import CardRepository
from memberbase.storage.customers import CustomerRepository
from memberbase.usecases.races import Refused

# Numbers someone already holds as a typed-in external id are skipped, this many at most.
_TRIES = 100


def wants_generated_id(org: OrgConfig, held: dict[IdentifierType, str], source: str, account_id: str) -> bool:
    return IdentifierType.EXTERNAL_ID not in held and generates_external_id(org, source, account_id)


async def generate_external_id(customers: CustomerRepository, org: OrgConfig, exhausted: Failure) -> str:
    """The next generated external id nobody holds, locked for this transaction; `exhausted`
    refuses the registration when the format has no numbers left (or every try was taken)."""
    numbers = CardRepository(customers.conn, org.id)
    for _ in range(_TRIES):
        candidate = generated_external_id(org.configs, await numbers.next_sequence(EXTERNAL_ID_SEQUENCE))
        if candidate is None:
            break
        await customers.lock_identifiers([(IdentifierType.EXTERNAL_ID.value, candidate)])
        if await customers.find_by_identifier(IdentifierType.EXTERNAL_ID, candidate) is None:
            return candidate
    raise Refused(exhausted)
