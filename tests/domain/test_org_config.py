"""The org YAML: documented defaults, and clear refusals of what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from memberbase.domain.org_config import IdentifierType, OrgConfig
from memberbase.usecases.load_orgs import DEMO_FILE, OrgFileError, read_org_file


def test_omitted_keys_take_the_documented_defaults() -> None:
    cfg = OrgConfig.model_validate({"id": 1, "name": "t"}).configs
    assert cfg.primary_key is IdentifierType.MOBILE
    assert not cfg.mobile_required
    assert not cfg.strict_primary_check
    assert (cfg.external_id_min_length, cfg.external_id_max_length) == (0, 0)
    assert cfg.min_registration_date is None


def test_the_built_in_demo_file_is_valid_and_matches_the_issue_example() -> None:
    org = read_org_file(DEMO_FILE).orgs[0]
    assert (org.id, org.base_country, org.supported_countries, org.timezone) == (
        50001,
        "IN",
        ("SG",),
        "Asia/Kolkata",
    )
    assert org.default_program is not None
    assert org.default_program.id == 469


def test_the_docs_example_is_valid() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    text = docs.read_text()
    start = text.index("```yaml") + len("```yaml")
    example = text[start : text.index("```", start)]
    path = docs.parent / ".example.yaml"
    try:
        path.write_text(example)
        assert len(read_org_file(path).orgs) >= 2
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("yaml_text", "complaint"),
    [
        ("orgs: []", "orgs"),
        ("orgs:\n  - {id: 1, name: a, configs: {CONF_TYPO: true}}", "CONF_TYPO"),
        ("orgs:\n  - {id: 1, name: a, base_country: XX}", "unknown country"),
        ("orgs:\n  - {id: 1, name: a, timezone: Mars/Olympus}", "time zone"),
        ("orgs:\n  - {id: 1, name: a, extended_fields: [shoe_size]}", "catalogue"),
        ("orgs:\n  - {id: 1, name: a, tills: [{code: t1}]}", "password"),
        (
            "orgs:\n  - {id: 1, name: a, tills: [{code: t1, password: p}]}\n"
            "  - {id: 2, name: b, tills: [{code: t1, password: q}]}",
            "unique",
        ),
        (
            "orgs:\n  - {id: 1, name: a, configs:"
            " {CONF_CLIENT_EXTERNAL_ID_MIN_LENGTH: 9, CONF_CLIENT_EXTERNAL_ID_MAX_LENGTH: 3}}",
            "MIN_LENGTH",
        ),
        ("orgs: [", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_a_message_naming_the_problem(
    tmp_path: Path, yaml_text: str, complaint: str
) -> None:
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml_text)
    with pytest.raises(OrgFileError, match=complaint):
        read_org_file(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match="cannot read"):
        read_org_file(tmp_path / "nope.yaml")


def test_the_skip_switch_is_accepted_under_both_documented_spellings() -> None:
    for key in ("CONFIG_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH", "CONF_SKIP_SECONDARY_ID_ON_PRIMARY_MISMATCH"):
        cfg = OrgConfig.model_validate({"id": 1, "name": "t", "configs": {key: True}}).configs
        assert cfg.skip_secondary_on_primary_mismatch
