"""The built-in catalogue of customer extended fields and their data types.

Extended fields, unlike custom fields, are standard across orgs: the platform
fixes their names and types and an org only switches them on. A value is
parsed into its canonical form here (an age is an integer, a date ISO), so the
store and every API read back the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class DataType(StrEnum):
    STRING = "STRING"
    INTEGER = "INTEGER"
    DATE = "DATETIME"
    STANDARD_ENUM = "STANDARD_ENUM"


@dataclass(frozen=True)
class ExtendedFieldDef:
    name: str
    label: str
    data_type: DataType
    enum_values: tuple[str, ...] = ()
    max_length: int = 100
    minimum: int | None = None
    maximum: int | None = None


def _field(name: str, data_type: DataType = DataType.STRING, **kw: object) -> ExtendedFieldDef:
    label = name.replace("_", " ").title()
    return ExtendedFieldDef(name, label, data_type, **kw)  # type: ignore[arg-type]


CATALOGUE: dict[str, ExtendedFieldDef] = {
    f.name: f
    for f in (
        _field("gender", DataType.STANDARD_ENUM, enum_values=("Male", "Female", "Other")),
        _field(
            "marital_status",
            DataType.STANDARD_ENUM,
            enum_values=("Single", "Married", "Divorced", "Widowed", "Other"),
        ),
        _field("dob", DataType.DATE),
        _field("anniversary_date", DataType.DATE),
        _field("age", DataType.INTEGER, minimum=0, maximum=150),
        _field("city"),
        _field("state"),
        _field("area"),
        _field("zip", max_length=20),
        _field("nationality"),
        _field("language"),
        _field("preferred_language"),
        _field("country_of_residence"),
        _field("acquisition_channel"),
        _field("preferred_store"),
        # A card-level field (seed 002's card sample sends it); enabled per org for cards.
        _field("custom_card_name"),
        _field("age_group", max_length=20),
        _field("ethnicity"),
    )
}

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d-%m-%Y", "%d/%m/%Y")


class ExtendedFieldError(ValueError):
    """A value the catalogue rejects; the message names the field and why."""


def parse_value(definition: ExtendedFieldDef, raw: object) -> str | int:
    """Canonical value of `raw` for `definition`, or ExtendedFieldError saying what is wrong."""
    name = definition.name
    if raw is None or isinstance(raw, bool | dict | list):
        raise ExtendedFieldError(f"{name}: expected a {definition.data_type.value.lower()} value")
    text = str(raw).strip()
    if text == "" or text.lower() == "null":
        raise ExtendedFieldError(f"{name}: empty or null values are not accepted")
    if definition.data_type is DataType.INTEGER:
        try:
            number = int(text)
        except ValueError as exc:
            raise ExtendedFieldError(f"{name}: {text!r} is not an integer") from exc
        if definition.minimum is not None and number < definition.minimum:
            raise ExtendedFieldError(f"{name}: must be at least {definition.minimum}")
        if definition.maximum is not None and number > definition.maximum:
            raise ExtendedFieldError(f"{name}: must be at most {definition.maximum}")
        return number
    if definition.data_type is DataType.DATE:
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        raise ExtendedFieldError(f"{name}: {text!r} is not a date (use YYYY-MM-DD)")
    if definition.data_type is DataType.STANDARD_ENUM:
        for allowed in definition.enum_values:
            if allowed.lower() == text.lower():
                return allowed
        raise ExtendedFieldError(f"{name}: {text!r} is not one of {', '.join(definition.enum_values)}")
    if len(text) > definition.max_length:
        raise ExtendedFieldError(f"{name}: longer than {definition.max_length} characters")
    return text
