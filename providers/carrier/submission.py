"""What every carrier adapter shares: checking a submission, reading a supplement's
corrections, the requested FOC instant, and a small atomic JSON store.

Secrets stay out of everything kept here: a submission carries vault refs, the activity
passes ``secrets`` (ref -> plain value) for one call, and adapters keep only hints.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from core.phone import is_toll_free
from core.settings import ACTIVATION_DEFAULT
from models.carrier import CarrierSubmission, Supplement
from models.numbers import NumberProblem, parse_tn
from models.request import Address, DocumentKind, DocumentRef, PortType, RemainingNumbers
from models.secrets import hint_of
from providers.carrier.base import CarrierError, CarrierRejected
from providers.carrier.exceptions import CORRECTION_ALIASES

TOLL_FREE_LOA_DAYS = 30  # Somos: a RespOrg change needs an LOA dated within 30 days


def config_error(message: str) -> CarrierError:
    """Our own mistake (a missing secret, a broken profile): retrying will not help."""
    err = CarrierError(message)
    err.retryable = False
    return err


def reveal(secrets: dict[str, str], ref: str | None, what: str) -> str | None:
    """The plain value of a vault ref for this call; a ref the activity did not resolve is a bug."""
    if ref is None:
        return None
    if ref not in secrets:
        raise config_error(
            f"the {what} (vault ref {ref}) was not passed to the carrier adapter: "
            "the carrier activity must reveal every ref of the submission"
        )
    value = secrets[ref]
    if not value.strip():
        raise CarrierRejected(f"the {what} is empty: enter it again with `starter.py amend`")
    return value


def hint(secrets: dict[str, str], ref: str | None) -> str:
    value = secrets.get(ref or "", "")
    return hint_of(value) if value else ""


def validate_submission(
    sub: CarrierSubmission, secrets: dict[str, str], now: datetime | None = None
) -> None:
    """Refuse, before any carrier call, what every carrier would refuse. Messages say what to fix."""
    if not sub.numbers:
        raise CarrierRejected(
            f"order {sub.order_id} has no numbers left to port: cancel it instead"
        )
    tf = [n for n in sub.numbers if is_toll_free(n)]
    if sub.toll_free and len(tf) != len(sub.numbers):
        local = sorted(set(sub.numbers) - set(tf))
        raise CarrierRejected(
            f"order {sub.order_id} is a toll-free (RespOrg) order but has geographic numbers "
            f"{', '.join(local)}: put them in a port order of their own"
        )
    if not sub.toll_free and tf:
        raise CarrierRejected(
            f"order {sub.order_id} has toll-free numbers {', '.join(tf)}: toll-free numbers move by a "
            "RespOrg change, so put them in their own order with toll_free=true"
        )
    reveal(secrets, sub.account_number_ref, "account number")
    if not sub.toll_free:
        reveal(secrets, sub.pin_ref, "PIN")
    if sub.port_type is PortType.PARTIAL:
        if sub.remaining_numbers is None:
            raise CarrierRejected(
                f"order {sub.order_id} is a partial port: say whether the remaining numbers are kept or disconnected"
            )
        if sub.remaining_numbers is RemainingNumbers.KEEP and not sub.new_btn:
            raise CarrierRejected(
                f"order {sub.order_id} keeps numbers at the losing carrier: give new_btn, the account's new BTN"
            )
    if sub.toll_free:
        loas = [
            d
            for d in sub.documents
            if d.kind in (DocumentKind.SIGNED_LOA, DocumentKind.LOA) and d.uploaded_at
        ]
        newest = max((d.uploaded_at for d in loas), default=None)  # type: ignore[type-var]
        if newest is not None:
            age = (now or datetime.now(UTC)) - (
                newest if newest.tzinfo else newest.replace(tzinfo=UTC)
            )
            if age > timedelta(days=TOLL_FREE_LOA_DAYS):
                raise CarrierRejected(
                    f"order {sub.order_id}: a RespOrg change needs an LOA dated within {TOLL_FREE_LOA_DAYS} days; "
                    f"the newest is {age.days} days old: send a new LOA for signature"
                )


def requested_foc_at(day: date, at: time | None, tz: str) -> datetime:
    """The requested FOC as a UTC instant: the port date at the activation time, local to the customer."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CarrierRejected(
            f"unknown time zone {tz!r}: use an IANA name such as America/New_York"
        ) from None
    return datetime.combine(day, at or ACTIVATION_DEFAULT, tzinfo=zone).astimezone(UTC)


@dataclass
class Corrections:
    """A supplement's corrections, checked and typed. Secrets stay as refs."""

    auth_person_name: str | None = None
    entity_name: str | None = None
    btn: str | None = None
    new_btn: str | None = None
    account_number_ref: str | None = None
    pin_ref: str | None = None
    service_address: Address | None = None
    port_date: date | None = None
    port_type: PortType | None = None
    remaining_numbers: RemainingNumbers | None = None
    remove_numbers: list[str] = field(default_factory=list)
    loa: DocumentRef | None = None
    bill: DocumentRef | None = None

    def fields(self) -> list[str]:
        return [k for k, v in self.__dict__.items() if v not in (None, [])]


def _tn(value: str, key: str) -> str:
    try:
        return parse_tn(value)
    except NumberProblem as exc:
        raise CarrierRejected(f"correction {key}: {exc.message}") from None


def _doc(value: str, key: str) -> DocumentRef:
    try:
        return DocumentRef.model_validate_json(value)
    except ValidationError as exc:
        raise CarrierRejected(
            f"correction {key} must be a document reference (JSON of DocumentRef): {exc.errors()[0]['msg']}"
        ) from None


def parse_corrections(sup: Supplement, secrets: dict[str, str]) -> Corrections:
    """Check a supplement's corrections; unknown keys and bad values are refused with what to send."""
    unknown = sorted(set(sup.corrections) - set(CORRECTION_ALIASES))
    if unknown:
        raise CarrierRejected(
            f"unknown correction {', '.join(unknown)}: use {', '.join(sorted(CORRECTION_ALIASES))}"
        )
    c = Corrections(port_date=sup.new_foc_date)
    for key, raw in sup.corrections.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if key in ("signer", "auth_person_name", "entity_name"):
            if not value:
                raise CarrierRejected(f"correction {key} is empty")
            setattr(c, "entity_name" if key == "entity_name" else "auth_person_name", value)
        elif key in ("btn", "new_btn"):
            setattr(c, key, _tn(value, key))
        elif key in ("account_number", "pin"):
            reveal(secrets, value, "account number" if key == "account_number" else "PIN")
            setattr(c, f"{key}_ref", value)
        elif key == "service_address":
            try:
                c.service_address = Address.model_validate_json(value)
            except ValidationError as exc:
                bad = exc.errors()[0]
                where = ".".join(str(p) for p in bad["loc"])
                raise CarrierRejected(
                    f"correction service_address: {where}: {bad['msg']} (send the address as JSON)"
                ) from None
        elif key == "port_date":
            try:
                c.port_date = date.fromisoformat(value)
            except ValueError:
                raise CarrierRejected(
                    f"correction port_date {value!r} is not a date (YYYY-MM-DD)"
                ) from None
        elif key == "port_type":
            try:
                c.port_type = PortType(value)
            except ValueError:
                raise CarrierRejected(
                    f"correction port_type {value!r}: use full or partial"
                ) from None
        elif key == "remaining_numbers":
            try:
                c.remaining_numbers = RemainingNumbers(value)
            except ValueError:
                raise CarrierRejected(
                    f"correction remaining_numbers {value!r}: use keep or disconnect"
                ) from None
        elif key == "remove_numbers":
            c.remove_numbers = sorted({_tn(v, key) for v in value.split(",") if v.strip()})
            if not c.remove_numbers:
                raise CarrierRejected(
                    "correction remove_numbers is empty: list the numbers, comma-separated"
                )
        elif key in ("loa", "bill"):
            setattr(c, key, _doc(value, key))
    return c


class JsonStore:
    """One JSON file per record in a directory; writes are atomic (temp file + rename), so a
    worker killed mid-write never leaves a torn record and restarts pick up where it was."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise config_error(f"bad record name {name!r}")
        return self.root / f"{name}.json"

    def get(self, name: str) -> dict[str, Any] | None:
        path = self._path(name)
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None

    def put(self, name: str, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def names(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.stem for p in self.root.glob(f"{prefix}*.json") if not p.name.startswith(".")
        )
