"""Realistic contexts for every notification template, as the workflows will fill them.

Shared by the notification tests; also a worked example of what each template needs.
"""

from __future__ import annotations

from typing import Any

from models.notify import Audience, Notification, Recipient

NUMBERS = ["+14155550123", "+14155550124", "+16505550199"]

CONTEXTS: dict[str, dict[str, Any]] = {
    "request_received": {
        "customer_name": "Acme Dental",
        "number_count": 3,
        "requested_date": "2026-04-15",
        "documents_due": "2026-03-25",
        "missing_documents": ["csr", "bill"],
        "customer_link": "https://portflow.example/c/PR-2026-0042.1.1767225600." + "A" * 43,
    },
    "documents_missing": {
        "customer_name": "Acme Dental",
        "missing_documents": ["csr"],
        "due_date": "2026-03-25",
        "requested_date": "2026-04-15",
        "days_left": 3,
        "customer_link": None,
    },
    "date_slipped": {
        "customer_name": "Acme Dental",
        "old_date": "2026-04-15",
        "new_date": "2026-04-22",
        "missing_documents": ["bill"],
    },
    "loa_sent": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "losing_carrier": "Verizon",
        "number_count": 3,
        "sign_by": "2026-03-30",
    },
    "loa_reminder": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "losing_carrier": "Verizon",
        "sent_date": "2026-03-16",
        "sign_by": "2026-03-30",
    },
    "loa_signed": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "signed_at": "2026-03-17 10:42 EDT",
        "losing_carrier": "Verizon",
    },
    "exception": {
        # From providers.carrier.exceptions.remediation_for(code, raw_text, numbers).
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "exception_code": "BTN_ATN_MISMATCH",
        "what_is_wrong": "the billing telephone number (BTN) does not match the account",
        "who_acts": "customer",
        "fields": ["btn"],
        "numbers": ["+14155550123"],
        "respond_by": "2026-03-20",
    },
    "foc_confirmed": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "foc_date": "Wednesday, April 15, 2026",
        "foc_time": "9:00 AM",
        "time_zone": "America/Los_Angeles",
        "numbers": NUMBERS,
    },
    "foc_changed": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "old_foc_date": "2026-04-15",
        "foc_date": "2026-04-17",
        "foc_time": "9:00 AM",
        "time_zone": "America/Los_Angeles",
        "reason": "The carrier moved the date.",
        "numbers": NUMBERS,
    },
    "numbers_ready": {
        "customer_name": "Acme Dental",
        "numbers": NUMBERS,
        "foc_date": "2026-04-15",
        "assign_by": "2026-04-14",
    },
    "assign_reminder": {
        "customer_name": "Acme Dental",
        "unassigned_numbers": NUMBERS[:2],
        "port_date": "2026-04-15",
        "business_days_left": 3,
    },
    "port_day": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "foc_date": "2026-04-15",
        "foc_time": "9:00 AM",
        "time_zone": "America/Los_Angeles",
        "numbers": NUMBERS,
    },
    "port_complete": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "completed_at": "2026-04-15 09:12 PDT",
        "numbers": NUMBERS[:2],
        "not_ported": NUMBERS[2:],
        "kept_numbers": ["+14155550188"],
        "temporary_numbers": ["+14155550177"],
        "first_invoice_date": "2026-05-01",
    },
    "gate_not_ready": {
        "customer_name": "Acme Dental",
        "foc_date": "2026-04-15",
        "foc_time": "09:00",
        "time_zone": "America/Denver",
        "business_days": 2,
        "open_items": ["users_trained", "ops_signoff"],
        "other_problems": ["the change window 2026-04-15 07:00-08:00 America/Denver ends before activation at 09:00; "
                           "ask the change board for a window that contains 2026-04-15 09:00 America/Denver"],
        "action": "sup2",
        "new_port_date": "2026-04-22",
        "fix": "python starter.py gate show PR-2026-0042",
    },
    "loa_voided": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "losing_carrier": "Verizon",
        "reason": "The customer decided to stay with the current provider.",
    },
    "cancelled": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "reason": "The customer decided to stay with the current provider.",
        "numbers": NUMBERS,
    },
    "loa_declined": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "signer_email": "dana@acme-dental.example",
        "losing_carrier": "Verizon",
        "decline_reason": "I am not the account owner",
        "fix": "python starter.py amend PR-2026-0042-1 --signer-name ... --signer-email ...",
    },
    "loa_expired": {
        "customer_name": "Acme Dental",
        "signer_name": "Dana Whitfield",
        "signer_email": "dana@acme-dental.example",
        "losing_carrier": "Verizon",
        "sent_date": "2026-03-02",
        "fix": "python starter.py amend PR-2026-0042-1 --signer-name ... --signer-email ...",
    },
    "unassigned_escalation": {
        "customer_name": "Acme Dental",
        "unassigned_numbers": NUMBERS[:1],
        "port_date": "2026-04-15",
        "contact_name": "Lee Park",
        "contact_email": "lee@acme-dental.example",
    },
    "activation_failed": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "carrier_order_id": "po_8c1e",
        "foc_date": "2026-04-15",
        "error": "Carrier reported ACTIVATION_FAILED: SV_UNKNOWN_FAILURE",
        "numbers": NUMBERS,
    },
    "carrier_silent": {
        "customer_name": "Acme Dental",
        "losing_carrier": "Verizon",
        "carrier_order_id": "po_8c1e",
        "last_status": "submitted",
        "silent_since": "2026-03-18 14:00 UTC",
        "silent_hours": 48,
    },
    "inventory_late": {
        "customer_name": "Acme Dental",
        "numbers": NUMBERS,
        "foc_date": "2026-04-15",
        "foc_received_at": "2026-03-20 10:00 UTC",
        "hours_since_foc": 24,
    },
    "port_reminder": {
        # One per contact and port from the daily reminder sweep (activities.reminders):
        # only what is late; the other variables are [] or None.
        "customer_name": "Acme Dental",
        "port_date": "2026-04-15",
        "missing_documents": ["csr", "bill"],
        "missing_from": ["Verizon", "Verizon"],
        "documents_due": "2026-03-25",
        "loa_carriers": ["Lumen"],
        "loa_sent_date": "2026-03-16",
        "signer_name": "Dana Whitfield",
        "unassigned_numbers": NUMBERS,
        "assign_by": "2026-04-15",
        "business_days_left": 3,
    },
    "digest": {
        "digest_date": "2026-03-23",
        "ports": [
            "PR-2026-0042 Acme Dental: documents missing (CSR), port date 2026-04-15",
            "PR-2026-0051 Globex: LOA unsigned for 4 days",
        ],
    },
    "escalation": {
        "customer_name": "Acme Dental",
        "reason": "No FOC 3 business days after submission",
        "stage": "submitted",
        "waiting_on": "carrier",
        "next_deadline": "2026-03-24 17:00 UTC",
    },
    "case_opened": {
        "customer_name": "Acme Dental",
        "case_id": "case-PR-2026-0042-1-activation-failed",
        "summary": "ported numbers not routing (activation-failed): activation failed at Verizon",
        "case_priority": "P1",
        "first_response_date": "2026-04-15",
        "first_response_time": "09:15",
        "time_zone": "America/Denver",
    },
    "case_update": {
        "customer_name": "Acme Dental",
        "case_id": "case-2026-0007",
        "summary": "message waiting light off for one user",
        "case_priority": "P4",
        "case_state": "resolved",
        "note": "The voicemail box was re-provisioned; the light works again.",
        "next_update_date": None,
        "next_update_time": None,
        "reopen_until_date": "2026-04-22",
        "reopen_until_time": "09:00",
        "time_zone": "America/Denver",
    },
    "case_escalation": {
        "customer_name": "Acme Dental",
        "case_id": "case-PR-2026-0042-1-activation-failed",
        "summary": "ported numbers not routing (activation-failed)",
        "reason": "update overdue (due 2026-04-15 10:00 UTC, round 1)",
        "case_state": "in_progress",
        "target": "first response within 15 minutes, updates every hour",
        "port_order": "PR-2026-0042-1",
        "contact_email": "lee@acme-dental.example",
        "overdue": 1,
    },
}

STAFF = [Recipient(audience=Audience.PM, address="pm@portflow.local", name="Pat PM")]
CUSTOMER = [
    Recipient(audience=Audience.CUSTOMER, address="lee@acme-dental.example", name="Lee Park"),
]


def sample_note(
    template: str, language: str = "en", key: str | None = None, **overrides: Any
) -> Notification:
    """A realistic notification for ``template``; customers for customer templates, a PM otherwise."""
    from providers.notify.render import STAFF_TEMPLATES

    fields: dict[str, Any] = {
        "key": key or f"PR-2026-0042-1:{template}:{language}",
        "template": template,
        "to": STAFF if template in STAFF_TEMPLATES else CUSTOMER,
        "language": language,
        "request_id": "PR-2026-0042",
        "order_id": "PR-2026-0042-1",
        "priority": "P2" if template in ("escalation", "case_escalation") else None,
        "context": dict(CONTEXTS[template]),
    }
    fields.update(overrides)
    return Notification(**fields)
