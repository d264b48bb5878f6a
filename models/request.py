"""The port request: what a PM writes down to move a customer's numbers to us.

A request holds one or more losing-carrier accounts; each account becomes one port order
(its own LOA, carrier submission and FOC). Numbers arrive in any North American notation
or as ranges and are stored in E.164. The offline check (``portflow.check``) reports every
problem of a request file at once; these validators are the last line and stop at the
first.
"""

from __future__ import annotations

import re
import secrets as _random
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from core.phone import is_toll_free
from core.text import shorten
from models.golive import GoLiveSection
from models.numbers import TN, expand_entry
from models.secrets import Secret, is_blank

REQUEST_ID = re.compile(r"^PR-\d{4}-\d{4,}$")

# Size limits of a request's fields (names, titles and the carrier have theirs below):
# whatever a file or a command line holds, nothing unbounded reaches a workflow or an LOA.
MAX_LINE = 200  # a line of an address
MAX_NOTES = 2000
MAX_ACCOUNT_NUMBER = 40
MAX_PIN = 20
MAX_ACCOUNTS = 100  # each account is a port order
MAX_NUMBERS = 10_000  # in one account (the check also limits a whole request)


def _secret_length(v: Secret, limit: int, what: str) -> Secret:
    if isinstance(v, SecretStr) and len(v.get_secret_value()) > limit:
        raise ValueError(f"the {what} is longer than {limit} characters: copy it from the CSR or the bill")
    return v


def new_request_id(year: int | None = None) -> str:
    """A fresh id such as ``PR-2026-0042``.

    The store allocates sequential ids (``store.requests.allocate_request_id``); this
    fallback is random and is used only when no database is at hand.
    """
    year = year or datetime.now().year
    return f"PR-{year}-{_random.randbelow(900000) + 100000}"


class Language(StrEnum):
    EN = "en"
    ES = "es"
    PT = "pt"
    FR = "fr"


class PortType(StrEnum):
    FULL = "full"
    PARTIAL = "partial"


class RemainingNumbers(StrEnum):
    """What happens to the numbers that stay with the losing carrier in a partial port."""

    KEEP = "keep"
    DISCONNECT = "disconnect"


class Customer(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    language: Language = Field(default=Language.EN, description="language of customer mail")


class Contact(BaseModel):
    """The customer's main point of contact: gets status mail, sends CSR and bill, assigns numbers."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: TN


class Signer(BaseModel):
    """The customer's authorized signer of the LOA."""

    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    email: EmailStr


class Address(BaseModel):
    """The service address on the losing carrier's account (CSR)."""

    street: str = Field(min_length=1, max_length=MAX_LINE)
    line2: str = Field(default="", max_length=MAX_LINE)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=2, description="two-letter state or province")
    postal_code: str = Field(min_length=3, max_length=10)
    country: str = Field(default="US", pattern=r"^(US|CA|PR|VI|GU|AS|MP)$")

    def one_line(self) -> str:
        parts = [self.street, self.line2, self.city, f"{self.state} {self.postal_code}", self.country]
        return ", ".join(p for p in parts if p)


def _expand_numbers(value: object) -> object:
    """Accept a list of numbers and ranges (or one comma-separated string); expand ranges."""
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;\n]", value) if v.strip()]
    if not isinstance(value, list):
        return value
    out: list[str] = []
    for entry in value:
        out.extend(expand_entry(entry) if isinstance(entry, (str, int)) else [entry])
    return out


class CarrierAccount(BaseModel):
    """One account at a losing carrier: one port order."""

    carrier: str = Field(min_length=1, max_length=100, description="losing carrier's name")
    account_number: Secret
    pin: Secret | None = Field(default=None, description="account passcode; mandatory for wireless")
    btn: TN = Field(description="billing telephone number of the account")
    service_address: Address
    port_type: PortType = PortType.FULL
    remaining_numbers: RemainingNumbers | None = Field(
        default=None, description="partial ports: keep or disconnect the numbers that stay"
    )
    new_btn: TN | None = Field(default=None, description="partial port keeping numbers: the account's new BTN")
    numbers: Annotated[list[TN], BeforeValidator(_expand_numbers)] = Field(min_length=1, max_length=MAX_NUMBERS)

    @field_validator("account_number")
    @classmethod
    def _account_present(cls, v: Secret) -> Secret:
        if is_blank(v):
            raise ValueError("account number is missing: copy it from the CSR or the bill")
        return _secret_length(v, MAX_ACCOUNT_NUMBER, "account number")

    @field_validator("pin")
    @classmethod
    def _pin_length(cls, v: Secret | None) -> Secret | None:
        return v if v is None else _secret_length(v, MAX_PIN, "PIN")

    @model_validator(mode="after")
    def _port_type_rules(self) -> CarrierAccount:
        if len(set(self.numbers)) != len(self.numbers):
            raise ValueError(f"{self.carrier}: a number is listed twice")
        if self.port_type is PortType.FULL:
            if self.btn not in self.numbers:
                raise ValueError(
                    f"{self.carrier}: full port but the BTN {self.btn} is not among its numbers: "
                    "add the BTN, or make it a partial port"
                )
        else:
            if self.remaining_numbers is None:
                raise ValueError(
                    f"{self.carrier}: partial port: say what happens to the remaining numbers (keep or disconnect)"
                )
            if self.remaining_numbers is RemainingNumbers.KEEP and self.new_btn is None:
                raise ValueError(
                    f"{self.carrier}: partial port keeping numbers needs new_btn, the number that "
                    "becomes the account's BTN"
                )
            if self.new_btn is not None and self.new_btn in self.numbers:
                raise ValueError(f"{self.carrier}: new_btn {self.new_btn} stays behind, so it cannot be ported too")
        return self

    @property
    def toll_free(self) -> list[str]:
        return [n for n in self.numbers if is_toll_free(n)]


class DocumentKind(StrEnum):
    CSR = "csr"
    BILL = "bill"
    LOA = "loa"
    SIGNED_LOA = "signed_loa"
    CERTIFICATE = "certificate"
    OTHER = "other"


class DocumentRef(BaseModel):
    """A document in the document store: its bytes are under documents/<sha256[:2]>/<sha256>."""

    model_config = ConfigDict(frozen=True)

    kind: DocumentKind
    file_name: str = Field(min_length=1)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    order_id: str | None = None
    uploaded_by: str = "system"
    uploaded_at: datetime | None = None


class DocumentInput(BaseModel):
    """A document named in a request file, relative to that file."""

    kind: DocumentKind
    path: str = Field(min_length=1, max_length=500)
    account: int | None = Field(default=None, ge=0, lt=MAX_ACCOUNTS, description="index of the account it belongs to; none: all")


class PortRequest(BaseModel):
    """A customer's request to port numbers from one or more losing carrier accounts."""

    id: str = Field(default_factory=new_request_id, max_length=30, description="PR-YYYY-NNNN")
    customer: Customer
    contact: Contact
    signer: Signer
    requested_port_date: date
    activation_time: time | None = Field(default=None, description="desired local activation time")
    time_zone: str = Field(default="America/New_York", max_length=64, pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+){0,2}$|^UTC$")
    notes: str = Field(default="", max_length=MAX_NOTES)
    accounts: list[CarrierAccount] = Field(min_length=1, max_length=MAX_ACCOUNTS)
    documents: list[DocumentInput] = Field(default_factory=list, max_length=100)
    pm_email: EmailStr | None = Field(default=None, description="the PM in charge; settings' pm_email when absent")
    go_live: GoLiveSection | None = Field(default=None, description="the go-live checklist that gates activation")
    temporary_numbers: Annotated[list[TN], BeforeValidator(_expand_numbers)] = Field(
        default_factory=list, max_length=50, description="interim DIDs the customer forwards calls to while pending")

    @field_validator("id")
    @classmethod
    def _id_format(cls, v: str) -> str:
        v = v.strip().upper()
        if not REQUEST_ID.match(v):
            raise ValueError(f"request id '{shorten(v, 30)}' must look like PR-2026-0042")
        return v

    @model_validator(mode="after")
    def _unique_numbers(self) -> PortRequest:
        # Keyed by account, not carrier name: two accounts at the same carrier are two orders.
        seen: dict[str, int] = {}
        for i, account in enumerate(self.accounts):
            for n in account.numbers:
                if n in seen and seen[n] != i:
                    first = self.accounts[seen[n]].carrier
                    raise ValueError(
                        f"{n} is listed under both accounts[{seen[n]}] ({first}) and accounts[{i}] ({account.carrier})"
                    )
                seen[n] = i
        porting = set(seen)
        for n in self.temporary_numbers:
            if n in porting:
                raise ValueError(f"temporary number {n} is one of the numbers being ported: calls are forwarded "
                                 "to a different DID while the port is pending")
        if len(set(self.temporary_numbers)) != len(self.temporary_numbers):
            raise ValueError("temporary_numbers: a number is listed twice")
        return self

    @property
    def all_numbers(self) -> list[str]:
        return [n for a in self.accounts for n in a.numbers]

    def order_id(self, index: int) -> str:
        """The id of the port order for account ``index``: ``PR-2026-0042-1``."""
        return f"{self.id}-{index + 1}"

    def order_parts(self) -> list[OrderPart]:
        """The port orders this request becomes: one per account, except that an account
        with both geographic and toll-free numbers becomes two, because toll-free numbers
        move by a RespOrg change, not a port order. The account keeps ``order_id(i)`` for
        its geographic numbers; its toll-free part is numbered after the last account."""
        parts: list[OrderPart] = []
        extra: list[OrderPart] = []
        for i, acc in enumerate(self.accounts):
            tf = acc.toll_free
            geo = [n for n in acc.numbers if n not in tf]
            if geo:
                parts.append(OrderPart(order_id=self.order_id(i), account_index=i, carrier=acc.carrier,
                                       numbers=geo, toll_free=False))
            if tf:
                part = OrderPart(order_id="", account_index=i, carrier=acc.carrier, numbers=tf, toll_free=True)
                (extra if geo else parts).append(part if geo else part.model_copy(update={"order_id": self.order_id(i)}))
        for k, part in enumerate(extra):
            parts.append(part.model_copy(update={"order_id": f"{self.id}-{len(self.accounts) + k + 1}"}))
        return parts


class OrderPart(BaseModel):
    """One port order of a request: an account's numbers, or its toll-free share of them."""

    order_id: str
    account_index: int
    carrier: str
    numbers: list[str]
    toll_free: bool = False
