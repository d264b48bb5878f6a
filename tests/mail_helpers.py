"""Reading the outbox (``<var>/outbox/*.eml``) as a person reads their mail, and waiting
for a message to arrive there (the workflows write mail from an activity, a moment after
the status moves)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from tests.polling import eventually


@dataclass(frozen=True)
class Mail:
    template: str
    subject: str
    to: tuple[str, ...]
    request_id: str
    order_id: str | None
    body: str

    @property
    def text(self) -> str:
        """Subject and plain text, one line apart: what a test looks for words in."""
        return f"{self.subject}\n{self.body}"

    def is_to(self, address: str) -> bool:
        """Whether one of the recipients' addresses contains ``address`` (``"@"``: anyone)."""
        return any(address in a for a in self.to)


def outbox(var: Path, template: str | None = None) -> list[Mail]:
    """The outbox .eml messages as a person reads them (oldest first), optionally one template's."""
    out = []
    for path in sorted((var / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        mail = Mail(
            template=str(msg["X-Portflow-Template"]),
            subject=str(msg["Subject"]),
            to=tuple(addr for _, addr in getaddresses([str(msg["To"])])),
            request_id=str(msg["X-Portflow-Request"]),
            order_id=str(msg["X-Portflow-Order"]) if msg["X-Portflow-Order"] else None,
            body=part.get_content() if part is not None else "",
        )
        if template is None or mail.template == template:
            out.append(mail)
    return out


def mail_to(var: Path, address: str) -> list[str]:
    """Subject and text (:attr:`Mail.text`) of every outbox message to ``address``, oldest first."""
    return [m.text for m in outbox(var) if m.is_to(address)]


async def wait_mail(var: Path, template: str | None = None, order_id: str | None = None, *, to: str | None = None,
                    containing: str | None = None, count: int = 1, timeout: float = 15.0) -> list[Mail]:
    """The outbox messages that match (a template, an order, a recipient, words in the
    subject or text) once there are at least ``count`` of them, oldest first."""
    def matching() -> list[Mail]:
        return [m for m in outbox(var, template)
                if (order_id is None or m.order_id == order_id) and (to is None or m.is_to(to))
                and (containing is None or containing in m.text)]

    wanted = ", ".join(f"{k} {v!r}" for k, v in
                       (("template", template), ("order", order_id), ("to", to), ("containing", containing)) if v)
    return await eventually(matching, lambda found: len(found) >= count, what=f"{count} mail(s) with {wanted}",
                            timeout=timeout, interval=0.1,
                            show=lambda found: f"{[m.subject for m in found]}; whole outbox: "
                                               f"{[(m.template, m.subject) for m in outbox(var)]}")
