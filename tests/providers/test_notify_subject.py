"""A subject reads the same in the mail as rendered: header folding adds and drops nothing.

Python's folder put a subject that did not fit beside ``Subject:`` but fit on a line of
its own onto the next line (``Subject:\\r\\n Port complete for ...``): readers that keep
the folding white space showed ``' Port complete for ...'``. Folding between two encoded
words also lost a space in Portuguese (``agoravocê``). Customer names of every length from
1 to 40 characters cover both sides of the 78-character line.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtplib.email import flatten_message

from core.settings import Settings
from providers.notify.mail import build_email
from providers.notify.outbox import OutboxChannel
from providers.notify.render import LANGUAGES, render
from providers.notify.smtp import SmtpChannel
from tests.providers.notify_samples import CONTEXTS, sample_note
from tests.providers.notify_servers import smtp_server

NAMES = list(dict.fromkeys("Acme Dental Group of Greater Springfield"[:n].strip() for n in range(1, 41)))
FOLDED_BEFORE = "Acme Dental Group"  # 'Subject:\r\n Port complete for Acme Dental Group: ...'


def _note(lang: str, name: str):
    return sample_note("port_complete", lang, key=f"subject:{lang}:{name}",
                       context={**CONTEXTS["port_complete"], "customer_name": name})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_subject_length_parses_back_to_the_rendered_text(lang: str) -> None:
    settings = Settings()
    for name in NAMES:
        note = _note(lang, name)
        subject = render(note, settings).subject
        msg = build_email(note, render(note, settings), settings)
        # what the outbox writes and what aiosmtplib sends
        for raw in (msg.as_bytes(policy=policy.SMTP), flatten_message(msg)):
            head = raw.split(b"\r\n\r\n", 1)[0]
            assert all(len(line) <= 998 for line in head.split(b"\r\n"))
            assert not raw.split(b"Subject:", 1)[1].startswith(b"\r\n"), head
            assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject, head


async def test_the_outbox_file_and_the_smtp_message_carry_the_rendered_subject(var_dir: Path) -> None:
    with smtp_server() as (controller, box):
        settings = Settings(var_dir=var_dir, smtp_host="127.0.0.1", smtp_port=controller.port)
        notes = [_note(lang, FOLDED_BEFORE) for lang in LANGUAGES]
        subjects = [render(n, settings).subject for n in notes]
        for note, subject in zip(notes, subjects, strict=True):
            delivery = await OutboxChannel(settings).deliver(note)
            parsed = message_from_bytes(Path(delivery.location or "").read_bytes(), policy=policy.default)
            assert parsed["Subject"] == subject
            await SmtpChannel(settings).deliver(note)
    assert subjects[0] == "Port complete for Acme Dental Group: you may now cancel your old service"
    assert [r.message["Subject"] for r in box.messages] == subjects
