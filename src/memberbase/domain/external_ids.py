"""Generated external ids (seed 000: "Auto-generation of external ID must be explicitly enabled").

An org that switches on `CONF_GEN_CARD_NUMBER_AS_EXTERNAL_ID_ENABLED` gives every customer it
registers without an external id a generated one, in the source accounts
`SOURCE_ACCOUNTS_EXTERNALID_ENABLED` names ("SOURCE:accountId", e.g. "INSTORE:",
"WECHAT:wx-1"; none named: every source account). The number is the hosted card-number
format: `CONF_CARD_NUMBER_PREFIX`, then a per-org sequence zero-padded, then (LUHN_ALGO) a
Luhn check digit, `CONF_CARD_NUMBER_LENGTH` characters in all. An external id the caller
sends is kept as sent.
"""

from __future__ import annotations

from memberbase.domain.cards import luhn_check_digit
from memberbase.domain.org_config import OrgConfig, RegistrationConfig
from memberbase.domain.sources import canonical_source

# The card-sequence row that numbers an org's generated external ids (card series ids start at 1).
EXTERNAL_ID_SEQUENCE = 0


def generates_external_id(org: OrgConfig, source: str, account_id: str) -> bool:
    """Whether a customer registered in this source account without an external id gets one."""
    configs = org.configs
    if not configs.generate_external_id:
        return False
    if not configs.external_id_source_accounts:
        return True
    return f"{source}:{account_id}" in {_account(entry) for entry in configs.external_id_source_accounts}


def _account(entry: str) -> str:
    source, _, account = entry.partition(":")
    return f"{canonical_source(source)}:{account.strip()}"


def generated_external_id(configs: RegistrationConfig, sequence: int) -> str | None:
    """The id numbered `sequence`; None when the format has no room left for it."""
    check = configs.generated_check == "LUHN_ALGO"
    digits = configs.generated_length - len(configs.generated_prefix) - (1 if check else 0)
    if sequence >= 10**digits:
        return None
    body = f"{configs.generated_prefix}{sequence:0{digits}d}"
    return body + str(luhn_check_digit(body)) if check else body
