"""Every status, error and warning code memberbase speaks, in one table.

Clients of the hosted API match on these numbers and strings, so they are
carried over verbatim from the published documentation (see docs/codes.md).
The HTTP adapters render a `Code` into each API version's wire shape; nothing
else invents a code or a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    SUCCESS = "success"
    ERROR = "error"
    WARNING = "warning"
    REQUEST = "request"  # request-level status of a v1.1 envelope


@dataclass(frozen=True)
class Code:
    code: int
    message: str
    kind: Kind

    def format(self, *args: object) -> str:
        return self.message.format(*args) if args else self.message

    def __reduce__(self) -> tuple[object, tuple[int, str, Kind]]:
        # Unpickled (results from an import's helper process) as the table's own constant,
        # so `result.success is Codes.CUSTOMER_REGISTERED` holds on either side.
        return _constant, (self.code, self.message, self.kind)


_TABLE: dict[tuple[int, str, Kind], Code] = {}


def _constant(code: int, message: str, kind: Kind) -> Code:
    return _TABLE.get((code, message, kind)) or Code(code, message, kind)


def _c(code: int, message: str, kind: Kind) -> Code:
    made = _TABLE[(code, message, kind)] = Code(code, message, kind)
    return made


S, E, W, R = Kind.SUCCESS, Kind.ERROR, Kind.WARNING, Kind.REQUEST


class Codes:
    """The table. Attribute names say what happened; values are the wire facts."""

    # v1.1 request-level statuses (response.status.code); HTTP status mirrors them.
    ALL_SUCCEEDED = _c(200, "Success", R)
    SOME_FAILED = _c(201, "Some requests have failed due to errors", R)
    INPUT_INVALID = _c(400, "Input is invalid. Please check request parameters or input xml/json", R)
    UNAUTHORIZED = _c(401, "Unauthorized", R)
    RESOURCE_NOT_FOUND = _c(404, "Incorrect resource", R)
    METHOD_NOT_ALLOWED = _c(405, "Incorrect HTTP Method", R)
    BODY_TOO_LARGE = _c(413, "Request body is too large", R)
    UNSUPPORTED_MEDIA_TYPE = _c(415, "Unsupported media type", R)
    HEADERS_TOO_LARGE = _c(431, "Request header fields too large", R)
    ALL_FAILED = _c(500, "All requests have failed due to errors", R)
    BATCH_LIMIT_EXCEEDED = _c(1060, "Batch limit exceeded", R)
    ACCESS_DENIED = _c(4000, "Not authorized. Access is denied!", R)
    RATE_LIMITED = _c(429, "Rate limit exceeded", R)
    TOKEN_EXPIRED = _c(498, "Token expired at {}", R)
    INVALID_CLIENT = _c(320001, "Invalid client key and secret", R)
    INVALID_ATTRIBUTION_TILL = _c(91021, "Invalid attribution TILL passed", R)
    IDEMPOTENCY_KEY_INVALID = _c(4221, "Idempotency-Key must be 1 to 255 visible ASCII characters", R)
    IDEMPOTENCY_KEY_REUSED = _c(4222, "Idempotency-Key was already used with a different request", R)

    # v1.1 item successes
    CUSTOMER_REGISTERED = _c(1000, "Customer registration successful", S)
    CUSTOMER_UPDATED = _c(1000, "Customer successfully updated", S)
    CUSTOMER_RETRIEVED = _c(1000, "Customer successfully retrieved", S)
    SUBSCRIPTION_UPDATED = _c(1000, "Subscription successfully updated", S)
    SUBSCRIPTION_RETRIEVED = _c(1000, "Subscription successfully retrieved", S)

    # v1.1 item errors
    ITEM_INPUT_INVALID = _c(400, "Input is invalid. Please check request parameters or input xml/json", E)
    # Seed 000 (customer/add, "Error codes"): 1006 "Mobile number validation failed", for a
    # mobile of the wrong format; the older table's 1001 is no longer answered.
    INVALID_MOBILE = _c(1006, "Mobile number validation failed", E)
    INVALID_EMAIL = _c(1002, "Unable to register. Invalid email id", E)
    INVALID_EXTERNAL_ID = _c(1003, "Unable to register. Invalid external id", E)
    MOBILE_REQUIRED = _c(1006, "Unable to register. Mobile number is required", E)
    NO_VALID_IDENTIFIER = _c(
        1007,
        "Error in customer registration: No Valid Mobile Number or External ID or Email provided."
        " Required for registration",
        E,
    )
    CUSTOMER_NOT_FOUND = _c(1012, "Cannot find customer with the provided mobile/external ID/e-mail ID", E)
    CUSTOMER_ERASED = _c(8109, "Customer is deleted after PII delete request", E)
    NO_IDENTIFIER = _c(1015, "No identifier provided to get loyalty users", E)
    REGISTRATION_DATE_NOT_ALLOWED = _c(
        1034,
        "Unable to register. Registration date is not within the allowed past or future date limit",
        E,
    )
    EMAIL_REQUIRED = _c(1039, "Unable to register. Email ID is required", E)
    EXTERNAL_ID_REQUIRED = _c(1043, "Unable to register. Customer's external id is required", E)
    LOYALTY_DOWNGRADE_NOT_ALLOWED = _c(
        1046, "Conversion of loyalty customer to non-loyalty is not allowed", E
    )
    PRIMARY_MISMATCH = _c(1047, "Customer's primary identifier not matching with other identifiers", E)
    SOURCE_INVALID = _c(3217, "Source is invalid", E)
    BASE_COUNTRY_NOT_CONFIGURED = _c(8014, "Mobile number validation failed", E)
    CONCURRENT_ACTIONS = _c(
        521, "Multiple actions are running for the same customer, Please try after some time", E
    )
    UNKNOWN_TILL = _c(91020, "Invalid TILL passed for registration", E)

    # Subscriptions (v1.1 customer/subscriptions items; v2 subscription warnings use them too)
    SUBSCRIPTION_CHANNEL_INVALID = _c(1101, "Invalid channel type", E)
    SUBSCRIPTION_PRIORITY_INVALID = _c(1102, "Invalid priority type", E)
    SUBSCRIPTION_SCOPE_INVALID = _c(1103, "Invalid scope", E)
    SUBSCRIPTION_IDENTIFIER_INVALID = _c(1104, "Invalid identifier or no identifier passed", E)
    SUBSCRIPTION_STATUS_INVALID = _c(1106, "Invalid subscription status passed", E)
    SUBSCRIPTION_NOT_FETCHED = _c(1109, "Unable to add, update or fetch subscription details", E)
    SUBSCRIPTION_NOT_UPDATED = _c(1110, "Unable to update subscription details", E)

    # v1.1 item warnings (the customer is still stored)
    CUSTOM_FIELD_INVALID = _c(1017, "Provided Custom Field is invalid", W)
    EXTENDED_FIELD_INVALID = _c(91015, "Provided Extended Field is invalid", W)
    PRIMARY_NOT_UPDATABLE = _c(91005, "{} is primary identifier and cannot be updated", W)
    IDENTIFIER_UPDATE_NOT_ALLOWED = _c(91006, "{} update is not allowed", W)
    IDENTIFIER_TAKEN = _c(91007, "{} is already occupied by some other user, ignoring it", W)
    SURVIVOR_RETRIEVED = _c(91009, "Retrieved survivor account for the requested merge victim", W)
    MERGED_INTO_SURVIVOR = _c(91090, "Customer merged into the customer that already held the identifier", W)
    SUBSCRIPTION_UPDATE_FAILED = _c(91022, "Failed to update subscription for {} channel and priority {}", W)

    # Referral warnings (v1.1 items and v2 warnings alike): the customer is stored, the
    # referral earns nothing. The hosted docs name the 1202-1206 family without wording.
    REFERRAL_NO_CAMPAIGN = _c(1202, "No active referral campaign for this registration", W)
    REFERRAL_CODE_INVALID = _c(1203, "Invalid referral code, referrer not found", W)
    REFERRAL_SELF = _c(1204, "A customer cannot refer themselves", W)
    REFERRAL_NOT_NEW = _c(1205, "Customer is already registered, referral applies to new customers only", W)
    REFERRAL_LIMIT = _c(1206, "Referrer has reached the referral limit of the campaign", W)
    REFERRER_NOT_ENROLLED = _c(
        1222, "Referrer is not enrolled in the referral campaign's program, referrer points not awarded", W
    )


class V2Codes:
    """The v2 customers API's codes (8xxx), rendered as {status:false, code, message}.

    8301-8309 are memberbase's own, for faults the hosted documents give no code for
    (cards, enrolment requests, extended fields); docs/codes.md lists them as such.
    """

    INPUT_INVALID = _c(400, "Input is invalid. Please check request parameters or input json", E)
    UNAUTHORIZED = _c(401, "Unauthorized", E)
    NOT_FOUND = _c(404, "Resource not found", E)
    METHOD_NOT_ALLOWED = _c(405, "Incorrect HTTP Method", E)
    BODY_TOO_LARGE = _c(413, "Request body is too large", E)
    UNSUPPORTED_MEDIA_TYPE = _c(415, "Unsupported media type", E)
    HEADERS_TOO_LARGE = _c(431, "Request header fields too large", E)
    SOURCE_INVALID = _c(3217, "Source is invalid", E)
    LOOKUP_NO_SOURCE = _c(8001, "Lookup failed, no source passed", E)
    LOOKUP_NO_IDENTIFIER = _c(8002, "Lookup failed, no identifiers passed", E)
    NO_SOURCE = _c(8004, "Add failed, No source passed", E)
    NO_VALID_IDENTIFIER = _c(8005, "Add failed, No valid identifiers passed", E)
    SAME_SOURCE_EXISTS = _c(8006, "Customer already exists for same source", E)
    SAME_SOURCE_CONFLICT = _c(8007, "Update failed, customer already exists for same source", E)
    INVALID_IDENTIFIER = _c(8013, "Lookup, Invalid identifier passed", E)
    INVALID_PRIMARY_ID = _c(8014, "Error in customer registration: Invalid Primary Id - {}", E)
    MOBILE_COUNTRY_NOT_CONFIGURED = _c(8014, "Mobile number validation failed", E)
    CUSTOMER_NOT_FOUND = _c(8015, "Customer not found for the given identifiers", E)
    LOYALTY_DOWNGRADE_NOT_ALLOWED = _c(8018, "Conversion from loyalty to non-loyalty not allowed", E)
    NOT_IN_SOURCE = _c(8065, "User not found for given source", E)
    NO_CHANGE_IDENTIFIERS = _c(8070, "No valid change identifiers passed", E)
    INVALID_REGISTRATION_DATE = _c(8017, "Error in customer registration: Invalid registration date", E)
    EXTERNAL_ID_INVALID = _c(8020, "External ID validation failed", E)
    ACCOUNT_ID_MISSING = _c(8045, "Account id is not passed", E)
    CONFLICTING_CUSTOMERS = _c(8052, "Add customer, Conflicting Customers found", E)
    CUSTOMER_DETAILS_MISSING = _c(8084, "Customer details not sent", E)
    STATUS_LABEL_INVALID = _c(8086, "Status label passed is not valid", E)
    CARD_SERIES_UNKNOWN = _c(8301, "Card series is not configured for the organisation", E)
    CARD_STATUS_NOT_ALLOWED = _c(8302, "Card status label is not allowed for the card series", E)
    CARD_ALREADY_ISSUED = _c(8303, "Card number is already issued", E)
    CARD_NUMBER_INVALID = _c(8304, "Card number does not fit the card series", E)
    EXTENDED_FIELD_INVALID = _c(8305, "Extended field is invalid", E)
    PROGRAM_UNKNOWN = _c(8306, "Loyalty program is not configured for the organisation", E)
    TIER_UNKNOWN = _c(8307, "Tier is not configured for the loyalty program", E)
    CARD_SERIES_EXHAUSTED = _c(8308, "Card series has no card numbers left", E)
    IDENTIFIER_INVISIBLE = _c(8309, "Identifier contains an invisible or control character", E)
    STATUS_CHANGE_NOT_ALLOWED = _c(8310, "Status change is not allowed", E)
    VERSION_MISMATCH = _c(8311, "Customer was changed since it was read (If-Match)", E)
    IDENTIFIERS_NOT_CHANGEABLE = _c(
        8312, "Identifiers and source cannot be changed with this API, use changeIdentifier", E
    )
    CONCURRENT_ACTIONS = _c(
        521, "Multiple actions are running for the same customer, Please try after some time", E
    )
    IDEMPOTENCY_KEY_INVALID = _c(8421, "Idempotency-Key must be 1 to 255 visible ASCII characters", E)
    IDEMPOTENCY_KEY_REUSED = _c(8422, "Idempotency-Key was already used with a different request", E)

    # The v2 subscription page's own codes (1000 reused as an error there, sic).
    SUBSCRIPTION_CUSTOMER_NOT_FOUND = _c(
        1012, "Cannot find customer for provided mobile/external-id/e-mail/id", E
    )
    SUBSCRIPTIONS_NOT_ADDED = _c(1000, "Customer Subscriptions could not be added", E)
    ALL_SUBSCRIPTIONS_FAILED = _c(500, "All requests have failed due to errors", E)

    MERGED_ACROSS_SOURCES = _c(8050, "Same Customer found in other sources,Combining", W)
    MERGED_WITH_USER = _c(8051, "Same Customer found in other sources, Merging with userId {}", W)
    MERGED_CUSTOMER_FOUND = _c(8069, "Merged customer found", W)
    MERGE_ALREADY_DONE = _c(8066, "Merge already done with userId {}", E)
    MERGE_INTO_ITSELF = _c(8320, "A customer cannot be merged into itself", E)
    MERGE_IDENTIFIER_CAP = _c(8321, "Merge refused: the organisation's limit of identifiers per customer", E)
    MERGE_COUNT_CAP = _c(8322, "Merge refused: the organisation's limit of merges per customer", E)
    MERGE_NOT_FOUND = _c(8323, "Merge not found", E)
    UNMERGE_BLOCKED = _c(8324, "Merge cannot be undone", E)
    UNMERGE_DONE = _c(8325, "Merge was already undone", E)
    CUSTOMER_ERASED = _c(8109, "Customer is deleted after PII delete request", E)
    PII_DELETION_DISABLED = _c(3232, "Org Config for PII Deletion is Disabled", E)
    REQUEST_TYPE_INVALID = _c(9006, "Request type is invalid", E)
    REQUEST_BASE_TYPE_INVALID = _c(9008, "Request base type is invalid", E)
    REQUEST_INSUFFICIENT = _c(9014, "Insufficient request for update", E)
    REQUEST_NOT_FOUND = _c(9050, "Request not found", E)
    REQUEST_SAME_USER = _c(9051, "Same user cannot request and approve", E)
    REQUEST_STATUS_INVALID = _c(9052, "Invalid request status", E)
    MOBILE_ALREADY_ATTACHED = _c(8071, "Mobile is already attached to this user", W)
    EMAIL_ALREADY_ATTACHED = _c(8072, "Email is already attached to this user", W)
    EXTERNAL_ID_ALREADY_ATTACHED = _c(8073, "External id is already attached to this user", W)
    INVALID_EMAIL_DROPPED = _c(8055, "Invalid email id, ignored", W)
    INVALID_MOBILE_DROPPED = _c(8056, "Invalid mobile number, ignored", W)
    ASSOCIATED_WITH_INVALID = _c(8077, "Invalid associatedWith, attribution not updated", W)
    DEFAULT_STATUS_LABEL_NOT_SET = _c(8107, "Default customer status label not set", W)
    CUSTOM_FIELD_INVALID = _c(1017, "Provided Custom Field is invalid", W)


def all_codes() -> list[tuple[str, Code]]:
    """Every entry of the table, for docs/codes.md and its test."""
    found = [(name, value) for name, value in vars(Codes).items() if isinstance(value, Code)]
    return found + [(f"V2.{name}", value) for name, value in vars(V2Codes).items() if isinstance(value, Code)]


# Clients compare these messages to the hosted text (a denial, a bad source): the message is
# exactly it, and memberbase's explanation goes into a separate `detail` key they ignore.
_EXACT = frozenset(
    {
        (Codes.ACCESS_DENIED.code, Codes.ACCESS_DENIED.message),
        (Codes.SOURCE_INVALID.code, Codes.SOURCE_INVALID.message),
        (V2Codes.SOURCE_INVALID.code, V2Codes.SOURCE_INVALID.message),
    }
)


def exact_message(code: Code, message: str) -> tuple[str, str | None]:
    """`message` as the wire carries it, and the explanation split off it for a code whose
    hosted text clients compare; other codes keep `text: detail` as they always answered."""
    prefix = f"{code.message}: "
    if (code.code, code.message) in _EXACT and message.startswith(prefix):
        return code.message, message[len(prefix) :]
    return message, None
