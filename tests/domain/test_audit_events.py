"""Audit rows as the audit API's events."""

from __future__ import annotations

from memberbase.domain.audit_events import AuditEvent, events_of


def test_a_merge_reports_the_added_source_account_and_identifiers() -> None:
    changes = {"accounts_added": [["WECHAT", "wx-1"]], "identifiers_added": [["wechat", "o1"]], "cards": []}
    assert events_of("customer.merged", changes) == [
        AuditEvent("CustomerMerge", "sourceAccount", "NA", "WECHAT:wx-1"),
        AuditEvent("Identifiers", "wechat", "NA", "o1"),
    ]


def test_an_update_reports_only_what_changed() -> None:
    changes = {
        "custom_fields": {"from": {"a": "1", "b": "2"}, "to": {"a": "1", "b": "3"}},
        "updated_on": {"from": "x", "to": "y"},
        "status_label": {"from": None, "to": "Member"},
    }
    assert events_of("customer.updated", changes) == [
        AuditEvent("CustomField", "b", "2", "3"),
        AuditEvent("CustomerStatus", "status_label", "NA", "Member"),
    ]
