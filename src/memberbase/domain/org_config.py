"""An organisation's configuration: typed switches, tills, fields, programmes.

The same model validates the YAML an operator writes (docs/config.md) and is
what the rules read, so a switch that is documented is a switch that is wired.
Config keys keep the hosted API's names (CONF_*), because operators migrating
from it already know them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from memberbase.domain.access import DEFAULT_GROUP, AccessGroup
from memberbase.domain.cards import CardSeries
from memberbase.domain.customer_status import StatusLabel
from memberbase.domain.extended_fields import CATALOGUE
from memberbase.domain.merge_rules import ErasureRules, MergeRules
from memberbase.domain.rate_limits import RateLimits
from memberbase.domain.rewards_config import (
    CouponSeries,
    PointsExpiry,
    ReferralCampaign,
    Reward,
    Rounding,
)
from memberbase.domain.sources import SourceAccounts


class IdentifierType(StrEnum):
    MOBILE = "mobile"
    EMAIL = "email"
    EXTERNAL_ID = "external_id"

    @property
    def label(self) -> str:
        """How the hosted API names the identifier in messages ("Email update is not allowed")."""
        return {"mobile": "Mobile", "email": "Email", "external_id": "External id"}[self.value]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegistrationConfig(_Frozen):
    """The documented registration switches; each omitted key takes its documented default."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    primary_key: IdentifierType = Field(IdentifierType.MOBILE, alias="CONF_REGISTRATION_PRIMARY_KEY")
    mobile_required: bool = Field(False, alias="CONF_USERS_IS_MOBILE_REQUIRED")
    email_required: bool = Field(False, alias="CONF_USERS_IS_EMAIL_REQUIRED")
    external_id_required: bool = Field(False, alias="CONF_USERS_IS_EXTERNAL_ID_REQUIRED")
    external_id_min_length: int = Field(0, ge=0, le=250, alias="CONF_CLIENT_EXTERNAL_ID_MIN_LENGTH")
    external_id_max_length: int = Field(0, ge=0, le=250, alias="CONF_CLIENT_EXTERNAL_ID_MAX_LENGTH")
    strict_primary_check: bool = Field(False, alias="CONF_PRIMARY_IDENTIFIER_STRICT_CHECK")
    skip_secondary_on_primary_mismatch: bool = Field(
        False, alias="CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH"
    )
    allow_mobile_update: bool = Field(False, alias="CONF_ALLOW_MOBILE_UPDATE")
    allow_email_update: bool = Field(False, alias="CONF_ALLOW_EMAIL_UPDATE")
    allow_external_id_update: bool = Field(False, alias="CONF_LOYALTY_ALLOW_EXTERNAL_ID_UPDATE")
    min_registration_date: dt.date | None = Field(None, alias="CONF_MIN_REGISTRATION_DATE")
    default_country_code_passed: bool = Field(False, alias="CONF_CLIENT_DEFAULT_COUNTRYCODE_PASSED")
    pii_deletion_enabled: bool = Field(False, alias="CONF_ENABLE_PII_DELETION")
    # Seeds 002/004: v2 `associatedWith` is taken "only" with this enabled (off by default
    # in the hosted API, which enables it on request).
    registration_info_from_base_store: bool = Field(False, alias="USE_CRM_REGISTRATION_INFO_FROM_BASE_STORE")
    # Generated external ids (domain/external_ids.py), off unless switched on (seed 000).
    generate_external_id: bool = Field(False, alias="CONF_GEN_CARD_NUMBER_AS_EXTERNAL_ID_ENABLED")
    external_id_source_accounts: tuple[str, ...] = Field((), alias="SOURCE_ACCOUNTS_EXTERNALID_ENABLED")
    generated_length: int = Field(12, ge=4, le=50, alias="CONF_CARD_NUMBER_LENGTH")
    generated_prefix: str = Field("", pattern=r"^[0-9]*$", max_length=20, alias="CONF_CARD_NUMBER_PREFIX")
    generated_check: Literal["LUHN_ALGO", "AUTO_INC"] = Field(
        "LUHN_ALGO", alias="CONF_CARD_CHECKSUM_DIGIT_ALGO"
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_documented_alias(cls, data: object) -> object:
        # The hosted docs spell the skip switch both CONF_ and CONFIG_; accept either.
        if isinstance(data, dict) and "CONF_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH" in data:
            data = dict(data)
            data["CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH"] = data.pop(
                "CONF_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH"
            )
        return data

    @model_validator(mode="after")
    def _min_not_above_max(self) -> RegistrationConfig:
        if self.external_id_max_length and self.external_id_min_length > self.external_id_max_length:
            raise ValueError(
                "CONF_CLIENT_EXTERNAL_ID_MIN_LENGTH must not exceed CONF_CLIENT_EXTERNAL_ID_MAX_LENGTH"
            )
        if len(self.generated_prefix) >= self.generated_length - 1:
            raise ValueError("CONF_CARD_NUMBER_PREFIX leaves no room in CONF_CARD_NUMBER_LENGTH for a number")
        low, high = self.external_id_min_length, self.external_id_max_length or 250
        if self.generate_external_id and not low <= self.generated_length <= high:
            raise ValueError(
                "CONF_CARD_NUMBER_LENGTH (generated external ids) must lie within"
                " the external id length rules"
            )
        return self

    def allows_update_of(self, kind: IdentifierType) -> bool:
        return {
            IdentifierType.MOBILE: self.allow_mobile_update,
            IdentifierType.EMAIL: self.allow_email_update,
            IdentifierType.EXTERNAL_ID: self.allow_external_id_update,
        }[kind]

    def requires(self, kind: IdentifierType) -> bool:
        return {
            IdentifierType.MOBILE: self.mobile_required,
            IdentifierType.EMAIL: self.email_required,
            IdentifierType.EXTERNAL_ID: self.external_id_required,
        }[kind]


_TILL_CODE = re.compile(r"^[A-Za-z0-9._@-]{1,50}$")


class Till(_Frozen):
    code: str
    password: str | None = Field(None, repr=False, min_length=1)
    password_md5: str | None = Field(None, repr=False, pattern=r"^[0-9a-fA-F]{32}$")
    store: str = Field("", max_length=200)
    access_group: str | None = None  # a name from the org's access_groups; none: write on customer
    program_id: int | None = None  # the programme its registrations join; none: the org's default

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not _TILL_CODE.match(value):
            raise ValueError("till code: 1-50 characters of letters, digits, '.', '_', '@' or '-'")
        return value

    @model_validator(mode="after")
    def _not_two_secrets(self) -> Till:
        # Stored configs carry no secret at all (only hashes, in the tills table).
        if self.password is not None and self.password_md5 is not None:
            raise ValueError(f"till {self.code}: give password or password_md5, not both")
        return self


class StaffUser(_Frozen):
    """A Member Care login (the staff console), apart from tills: `viewer` reads, `agent` also
    changes customers, `admin` also decides the org's requests (merges, erasure).

    `password` is given in the org file and only its argon2 hash is stored; `password_hash`
    (an argon2 hash, from `memberbase staff hash`) is the form for files kept in git."""

    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str | None = Field(None, min_length=8, repr=False)
    password_hash: str | None = Field(None, pattern=r"^\$argon2(id|i|d)\$", repr=False)
    role: Literal["viewer", "agent", "admin"] = "viewer"

    @model_validator(mode="after")
    def _one_secret(self) -> StaffUser:
        if (self.password is None) == (self.password_hash is None):
            raise ValueError(f"staff {self.username}: give password or password_hash (one of them)")
        return self

    def may(self, action: Literal["read", "change", "decide"]) -> bool:
        needed = {"read": 0, "change": 1, "decide": 2}[action]
        return needed <= {"viewer": 0, "agent": 1, "admin": 2}[self.role]


class ApiClient(_Frozen):
    """An OAuth client: exchanges key and secret for a token naming its org (hosted /v3/oauth)."""

    key: str = Field(min_length=4, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    secret: str | None = Field(None, min_length=8, repr=False)
    token_ttl_seconds: int = Field(300, ge=60, le=30 * 24 * 3600)
    default_till: str
    access_group: str | None = None


class CustomFieldDef(_Frozen):
    name: str = Field(min_length=1, max_length=100)
    max_length: int = Field(255, ge=1, le=4000)


class Tier(_Frozen):
    serial: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    # How long the tier is held once reached: days, or until a fixed date; neither: a century.
    validity_days: int | None = Field(None, ge=1, le=36500)
    expires_on: dt.date | None = None
    # Lifetime points that lift a customer into this tier; none: points alone never reach it.
    upgrade_points: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_validity(self) -> Tier:
        if self.validity_days is not None and self.expires_on is not None:
            raise ValueError(f"tier {self.serial}: give validity_days or expires_on, not both")
        return self


class Program(_Frozen):
    id: int = Field(ge=1)
    name: str = Field(min_length=1)
    description: str = ""
    default: bool = False
    tiers: tuple[Tier, ...] = Field(min_length=1)
    points_expiry: PointsExpiry = Field(default_factory=PointsExpiry)
    points_rounding: Rounding = Field(default_factory=Rounding)
    registration_rewards: tuple[Reward, ...] = ()

    @field_validator("tiers")
    @classmethod
    def _serials_unique(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        serials = [t.serial for t in tiers]
        if len(set(serials)) != len(serials):
            raise ValueError("tier serials must be unique within a programme")
        ordered = tuple(sorted(tiers, key=lambda t: t.serial))
        if ordered[0].upgrade_points:
            raise ValueError("the lowest tier is where customers start: it takes no upgrade_points")
        points = [t.upgrade_points for t in ordered[1:] if t.upgrade_points is not None]
        if points != sorted(points):
            raise ValueError("higher tiers must not need fewer upgrade_points than lower ones")
        return ordered

    @field_validator("points_rounding", mode="before")
    @classmethod
    def _rounding_word(cls, value: object) -> object:
        return {"mode": value} if isinstance(value, str) else value

    @field_validator("registration_rewards")
    @classmethod
    def _rule_ids(cls, rewards: tuple[Reward, ...], info: ValidationInfo) -> tuple[Reward, ...]:
        # A stable default rule id per position; operators who reorder should set ids.
        program = info.data.get("id", 0)
        return tuple(
            r if r.id else r.model_copy(update={"id": f"P{program}-R{i}"}) for i, r in enumerate(rewards, 1)
        )

    def tier_for_points(self, lifetime_points: int) -> Tier:
        """The highest tier these lifetime points reach."""
        reached = [
            t for t in self.tiers[1:] if t.upgrade_points is not None and t.upgrade_points <= lifetime_points
        ]
        return reached[-1] if reached else self.tiers[0]

    @property
    def lowest_tier(self) -> Tier:
        return self.tiers[0]

    def tier_after(self, serial: int) -> Tier | None:
        return next((t for t in self.tiers if t.serial > serial), None)

    def tier(self, serial: int) -> Tier | None:
        return next((t for t in self.tiers if t.serial == serial), None)


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class OrgConfig(_Frozen):
    id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    base_country: CountryCode | None = None
    supported_countries: tuple[CountryCode, ...] = ()
    timezone: str = "UTC"
    configs: RegistrationConfig = Field(default_factory=lambda: RegistrationConfig.model_validate({}))
    tills: tuple[Till, ...] = ()
    custom_fields: tuple[CustomFieldDef, ...] = ()
    extended_fields: tuple[str, ...] = ()
    # Extended fields a card may carry (seed 003: "Customer or card level extended field
    # details … only … enabled for your org with the respective datatype"); same catalogue.
    card_extended_fields: tuple[str, ...] = ()
    programs: tuple[Program, ...] = ()
    # Without a list, an org has the in-store source only (it has no account ids to offer).
    sources: tuple[SourceAccounts, ...] = (SourceAccounts(source="INSTORE"),)
    customer_status_labels: tuple[StatusLabel, ...] = ()
    card_series: tuple[CardSeries, ...] = ()
    access_groups: tuple[AccessGroup, ...] = ()
    api_clients: tuple[ApiClient, ...] = ()
    staff: tuple[StaffUser, ...] = ()  # Member Care logins (usernames unique within the org)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    coupon_series: tuple[CouponSeries, ...] = ()
    referral_campaigns: tuple[ReferralCampaign, ...] = ()
    merges: MergeRules = Field(default_factory=MergeRules)
    erasure: ErasureRules = Field(default_factory=ErasureRules)

    @field_validator("referral_campaigns")
    @classmethod
    def _campaign_rule_ids(cls, campaigns: tuple[ReferralCampaign, ...]) -> tuple[ReferralCampaign, ...]:
        def named(c: ReferralCampaign, side: str, rewards: tuple[Reward, ...]) -> tuple[Reward, ...]:
            return tuple(
                r if r.id else r.model_copy(update={"id": f"C{c.id}-{side}{i}"})
                for i, r in enumerate(rewards, 1)
            )

        return tuple(
            c.model_copy(
                update={
                    "referee_rewards": named(c, "REFEREE", c.referee_rewards),
                    "referrer_rewards": named(c, "REFERRER", c.referrer_rewards),
                }
            )
            for c in campaigns
        )

    @field_validator("base_country", "supported_countries", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            return value.upper()
        if isinstance(value, list | tuple):
            return [v.upper() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("base_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and not phonenumbers.country_code_for_region(value):
            raise ValueError(f"unknown country {value!r}: use an ISO 3166-1 alpha-2 code")
        return value

    @field_validator("supported_countries")
    @classmethod
    def _known_countries(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            cls._known_country(value)
        return values

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("extended_fields", "card_extended_fields")
    @classmethod
    def _in_catalogue(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in values if v not in CATALOGUE]
        if unknown:
            raise ValueError(f"extended fields not in the catalogue: {unknown}; known: {sorted(CATALOGUE)}")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> OrgConfig:
        codes = [t.code for t in self.tills]
        if len(set(codes)) != len(codes):
            raise ValueError(f"org {self.id}: till codes must be unique")
        usernames = [s.username.lower() for s in self.staff]
        if len(set(usernames)) != len(usernames):
            raise ValueError(f"org {self.id}: staff usernames must be unique (case-insensitive)")
        names = [f.name.lower() for f in self.custom_fields]
        if len(set(names)) != len(names):
            raise ValueError(f"org {self.id}: custom field names must be unique (case-insensitive)")
        ids = [p.id for p in self.programs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"org {self.id}: programme ids must be unique")
        if sum(p.default for p in self.programs) > 1:
            raise ValueError(f"org {self.id}: at most one programme may be the default")
        if len({s.source for s in self.sources}) != len(self.sources):
            raise ValueError(f"org {self.id}: list each source once")
        for source in self.sources:
            if source.multi_account and not source.accounts:
                raise ValueError(f"org {self.id}: {source.source} needs its account ids (accounts: [...])")
            if not source.multi_account and source.accounts:
                raise ValueError(f"org {self.id}: {source.source} has a single account; remove its accounts")
        labels = [s.label.lower() for s in self.customer_status_labels]
        if len(set(labels)) != len(labels) or sum(s.default for s in self.customer_status_labels) > 1:
            raise ValueError(f"org {self.id}: status labels must be unique, with at most one default")
        groups = {g.name for g in self.access_groups}
        if len(groups) != len(self.access_groups):
            raise ValueError(f"org {self.id}: access group names must be unique")
        unknown = [t.code for t in self.tills if t.access_group is not None and t.access_group not in groups]
        if unknown:
            raise ValueError(f"org {self.id}: tills {unknown} name an access group the org does not define")
        for client in self.api_clients:
            if self.till(client.default_till) is None:
                raise ValueError(
                    f"org {self.id}: api client {client.key}: default_till is not a till of the org"
                )
            if client.access_group is not None and client.access_group not in groups:
                raise ValueError(f"org {self.id}: api client {client.key} names an unknown access group")
        series = self.card_series
        if len({c.id for c in series}) != len(series) or len({c.code for c in series}) != len(series):
            raise ValueError(f"org {self.id}: card series ids and codes must be unique")
        self._check_rewards()
        return self

    def _check_rewards(self) -> None:
        program_ids = {p.id for p in self.programs}
        for till in self.tills:
            if till.program_id is not None and till.program_id not in program_ids:
                raise ValueError(
                    f"org {self.id}: till {till.code} names an unknown programme {till.program_id}"
                )
        coupon_ids = [c.id for c in self.coupon_series]
        if len(set(coupon_ids)) != len(coupon_ids):
            raise ValueError(f"org {self.id}: coupon series ids must be unique")
        campaign_ids = [c.id for c in self.referral_campaigns]
        if len(set(campaign_ids)) != len(campaign_ids):
            raise ValueError(f"org {self.id}: referral campaign ids must be unique")
        for campaign in self.referral_campaigns:
            if campaign.program_id is not None and campaign.program_id not in program_ids:
                raise ValueError(f"org {self.id}: referral campaign {campaign.id} names an unknown programme")
        rewards = self.all_rewards()
        rule_ids = [r.id for r in rewards]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError(f"org {self.id}: reward ids must be unique across programmes and campaigns")
        sources = {s.source for s in self.sources}
        for reward in rewards:
            if reward.coupon_series is not None and reward.coupon_series not in coupon_ids:
                raise ValueError(
                    f"org {self.id}: reward {reward.id} names unknown coupon series {reward.coupon_series}"
                )
            unknown = set(reward.sources) - sources
            if unknown:
                raise ValueError(
                    f"org {self.id}: reward {reward.id} names sources the org lacks: {sorted(unknown)}"
                )

    def all_rewards(self) -> list[Reward]:
        found = [r for p in self.programs for r in p.registration_rewards]
        for campaign in self.referral_campaigns:
            found += [*campaign.referee_rewards, *campaign.referrer_rewards]
        return found

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def mobile_countries(self) -> tuple[str, ...]:
        """Base country first: it is tried first when a country code must be prefixed."""
        if self.base_country is None:
            return ()
        rest = tuple(c for c in self.supported_countries if c != self.base_country)
        return (self.base_country, *rest)

    def custom_field(self, name: str) -> CustomFieldDef | None:
        lowered = name.lower()
        return next((f for f in self.custom_fields if f.name.lower() == lowered), None)

    # Indexes built once per parsed config (it is frozen): registration asks for the till and
    # programme several times per customer, and an import does it for every row.
    @functools.cached_property
    def tills_by_code(self) -> dict[str, Till]:
        return {t.code: t for t in self.tills}

    @functools.cached_property
    def programs_by_id(self) -> dict[int, Program]:
        return {p.id: p for p in self.programs}

    @functools.cached_property
    def tier_places(self) -> dict[tuple[int, int], tuple[Program, Tier, Tier | None]]:
        """(programme id, tier serial) -> (programme, tier, next tier): each read renders one."""
        return {(p.id, t.serial): (p, t, p.tier_after(t.serial)) for p in self.programs for t in p.tiers}

    def till(self, code: str) -> Till | None:
        return self.tills_by_code.get(code)

    def source_problem(self, source: str, account_id: str) -> str | None:
        """Why `source`/`account_id` is not one of the org's source accounts, or None when it is."""
        configured = next((s for s in self.sources if s.source == source), None)
        if configured is None:
            return f"{source} is not a source of this organisation"
        if configured.multi_account and account_id not in configured.accounts:
            if not account_id:
                return f"{source} needs an accountId"
            return f"accountId {account_id!r} is not an account of {source} in this organisation"
        return None

    def staff_user(self, username: str) -> StaffUser | None:
        return next((s for s in self.staff if s.username.lower() == username.lower()), None)

    def api_client(self, key: str) -> ApiClient | None:
        return next((c for c in self.api_clients if c.key == key), None)

    def access_group(self, name: str | None) -> AccessGroup:
        if name is None:
            return DEFAULT_GROUP
        return next(g for g in self.access_groups if g.name == name)

    def status_label(self, label: str) -> StatusLabel | None:
        return next((s for s in self.customer_status_labels if s.label.lower() == label.lower()), None)

    @property
    def default_status_label(self) -> StatusLabel | None:
        return next((s for s in self.customer_status_labels if s.default), None)

    def series(self, series_id: int | None, series_code: str | None) -> CardSeries | None:
        for candidate in self.card_series:
            if series_id is not None and candidate.id == series_id:
                return candidate
            if series_id is None and series_code is not None and candidate.code == series_code:
                return candidate
        return None

    def program(self, program_id: int) -> Program | None:
        return self.programs_by_id.get(program_id)

    def coupon(self, series_id: int) -> CouponSeries | None:
        return next((c for c in self.coupon_series if c.id == series_id), None)

    def program_for_till(self, till_code: str) -> Program | None:
        """The programme a till's registrations join: the till's own, else the org's default."""
        till = self.till(till_code)
        if till is not None and till.program_id is not None:
            return self.program(till.program_id)
        return self.default_program

    @property
    def default_program(self) -> Program | None:
        """The programme a loyalty customer joins: the marked default, else the first listed."""
        return next((p for p in self.programs if p.default), self.programs[0] if self.programs else None)


class OrgFile(_Frozen):
    """The whole YAML file: several orgs may live in one."""

    orgs: tuple[OrgConfig, ...] = Field(min_length=1)
    version: Literal[1] = 1

    @model_validator(mode="after")
    def _unique(self) -> OrgFile:
        ids = [o.id for o in self.orgs]
        if len(set(ids)) != len(ids):
            raise ValueError("org ids must be unique in one file")
        tills = [t.code for o in self.orgs for t in o.tills]
        clients = [c.key for o in self.orgs for c in o.api_clients]
        if len(set(clients)) != len(clients):
            raise ValueError("api client keys must be unique across orgs: a key is a login")
        secretless = [c.key for o in self.orgs for c in o.api_clients if c.secret is None]
        if secretless:
            raise ValueError(f"api clients without a secret: {secretless}")
        missing = [
            t.code for o in self.orgs for t in o.tills if t.password is None and t.password_md5 is None
        ]
        if missing:
            raise ValueError(f"tills without password or password_md5: {missing}")
        if len(set(tills)) != len(tills):
            raise ValueError("till codes must be unique across orgs: a till code is a login name")
        return self
