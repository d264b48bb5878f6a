"""Shared builders for the carrier adapter tests: a submission, secrets, documents, a clock."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from models.carrier import CarrierSubmission, Supplement, SupplementKind
from models.request import Address, DocumentKind, DocumentRef, PortType
from providers.carrier.exceptions import Remediation

ACCOUNT = "8812345670"
PIN = "4321"
SECRETS = {
    "sec_" + "a" * 32: ACCOUNT,
    "sec_" + "b" * 32: PIN,
    "sec_" + "c" * 32: "8812345999",
    "sec_" + "d" * 32: "9876",
}
ACCOUNT_REF, PIN_REF, ACCOUNT2_REF, PIN2_REF = list(SECRETS)
NUMBERS = ["+14155550100", "+14155550101", "+14155550102", "+14155550103"]
TOLL_FREE = ["+18005550100", "+18885550101"]
ADDRESS = Address(
    street="500 Market St", line2="Suite 4", city="San Francisco", state="CA", postal_code="94105"
)
PORT_DATE = date(2026, 4, 15)
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 0, **kw: float) -> datetime:
        self.now += timedelta(seconds=seconds, **kw)
        return self.now

    def to(self, when: datetime) -> datetime:
        self.now = when
        return when


def document(docs_dir: Path, kind: DocumentKind, content: bytes, name: str) -> DocumentRef:
    """Put bytes into the document store the way store/ lays them out; return the ref."""
    sha = hashlib.sha256(content).hexdigest()
    path = docs_dir / sha[:2] / sha
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return DocumentRef(kind=kind, file_name=name, size=len(content), sha256=sha, uploaded_at=START)


def submission(
    order: str = "PR-2026-0042-1",
    carrier: str = "Acme Telecom",
    numbers: list[str] | None = None,
    **kw: object,
) -> CarrierSubmission:
    nums = numbers or NUMBERS
    toll_free = bool(kw.pop("toll_free", False))
    data: dict[str, object] = {
        "idempotency_key": f"{order}:submit",
        "request_id": order.rsplit("-", 1)[0],
        "order_id": order,
        "carrier": carrier,
        "entity_name": "Acme Dental",
        "auth_person_name": "Dana Whitfield",
        "account_number_ref": ACCOUNT_REF,
        "pin_ref": None if toll_free else PIN_REF,
        "btn": nums[0],
        "service_address": ADDRESS,
        "port_type": PortType.FULL,
        "numbers": nums,
        "toll_free": toll_free,
        "requested_foc_date": PORT_DATE,
        "time_zone": "America/New_York",
    }
    data.update(kw)
    return CarrierSubmission.model_validate(data)


def correction_value(field: str, loa: DocumentRef) -> tuple[str, str]:
    """A valid correction for a remediation field (refs for secrets)."""
    return {
        "signer": ("auth_person_name", "Morgan Lee"),
        "loa": ("loa", loa.model_dump_json()),
        "entity_name": ("entity_name", "Acme Dental LLC"),
        "btn": ("btn", "(415) 555-0101"),
        "new_btn": ("new_btn", "+14155550199"),
        "account_number": ("account_number", ACCOUNT2_REF),
        "pin": ("pin", PIN2_REF),
        "service_address": (
            "service_address",
            ADDRESS.model_copy(update={"line2": "Suite 400"}).model_dump_json(),
        ),
        "port_type": ("port_type", "full"),
    }[field]


def supplement_for(
    rem: Remediation, numbers: list[str], loa: DocumentRef, key: str = "sup-1"
) -> Supplement:
    """The supplement a PM sends to answer ``rem`` (SUP2 for a new date, SUP3 otherwise)."""
    corrections: dict[str, str] = {}
    new_date = None
    for field in rem.fields_to_amend:
        if field == "remove_numbers":
            corrections["remove_numbers"] = ",".join(numbers)
        elif field == "port_date":
            new_date = PORT_DATE + timedelta(days=7)
        else:
            k, v = correction_value(field, loa)
            corrections[k] = v
    kind = SupplementKind.SUP2 if rem.supplement_kind == "SUP2" else SupplementKind.SUP3
    return Supplement(
        kind=kind,
        idempotency_key=key,
        new_foc_date=new_date,
        corrections=corrections,
        reason=f"fix {rem.code}",
    )
