"""The reminder schedule end to end on a dev server: sync, trigger, and what people receive.

Stand-in ports (``fake_ports``) carry the search attributes; the sweep's clock is fixed at
Wednesday 2026-03-18 09:00 in New York, so the rules (lead time + 7 days for documents,
LOA unsigned 3 days, no FOC 3 business days, numbers unassigned within 3 business days)
give the same answer whatever day the suite runs. Everything else is production's: the
schedule, the sweep workflow, its visibility queries and status queries, the templates,
the outbox and SMTP.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from portflow.temporal import client_options
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from models.reminders import SweepResult
from models.request import PortRequest
from models.status import PortStatus as S
from portflow import schedules
from tests.providers.notify_servers import smtp_server
from tests.polling import eventually
from tests.schedules.conftest import Sweeps, cli
from tests.schedules.fake_ports import FakePort, order, request
from worker import workflow_runner
from workflows.reminders import ReminderSweepWorkflow

WEDNESDAY_9AM_NY = datetime(2026, 3, 18, 13, 0, tzinfo=UTC)
PM_A, PM_B = "ana.pm@provider.example", "bo.pm@provider.example"


def new_request_id() -> str:
    return f"PR-2098-{uuid.uuid4().int % 900000 + 100000}"


def at(day: int, hour: int = 14) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def store_request(rid: str, customer: str, *, pm: str, contact: str, signer: str) -> None:
    """What the real PortRequestWorkflow's intake saves: the sweep reads the signer and the
    time zone from it (the views do not carry them)."""
    from store import vault
    from store.db import session_scope
    from store.requests import save_request

    req = PortRequest.model_validate({
        "id": rid,
        "customer": {"name": customer, "language": "en"},
        "contact": {"name": "Lee Park", "email": contact, "phone": "+13125550100"},
        "signer": {"name": signer, "title": "Office manager", "email": "dana@acme.example"},
        "requested_port_date": "2026-03-20",
        "time_zone": "America/Chicago",
        "accounts": [{"carrier": "Lumen", "account_number": "8831-2207-19", "pin": "4417", "btn": "+13125550101",
                      "service_address": {"street": "233 S Wacker Dr", "city": "Chicago", "state": "IL",
                                          "postal_code": "60606"},
                      "numbers": ["+13125550101", "+13125550102"]}],
    })
    with session_scope() as s:
        save_request(session=s, request=vault.seal(req, session=s), pm_email=pm)


class World:
    """The ports of the main scenario, and what the sweep must say about them."""

    def __init__(self, tag: str) -> None:
        self.r1, self.r2, self.r3, self.r4, self.r5, self.r6 = (new_request_id() for _ in range(6))
        self.c1, self.c3 = f"ines.{tag}@clinica-uno.example", f"lee.{tag}@acme.example"
        self.uno, self.acme = f"Clinica Uno {tag}", f"Acme Dental {tag}"
        self.globex, self.initech = f"Globex {tag}", f"Initech {tag}"
        r3, r4 = self.r3, self.r4
        self.ports: list[FakePort] = [
            # documents missing, port date 21 days out: due today (at risk)
            request(self.r1, self.uno, status=S.DOCUMENTS, port_date=date(2026, 4, 8), pm=PM_A, contact=self.c1,
                    language="es", missing=[f"CSR for Lumen ({self.r1}-1)", f"BILL for Lumen ({self.r1}-1)"],
                    since=at(2)),
            # documents missing, port date two months out: not yet
            request(self.r2, f"Far Away {tag}", status=S.DOCUMENTS, port_date=date(2026, 5, 20), pm=PM_A,
                    contact=f"far.{tag}@example.com", missing=[f"CSR for Lumen ({self.r2}-1)"]),
            # an LOA out since 10 March whose numbers port on Friday, and a second order's numbers
            request(r3, self.acme, status=S.LOA_SENT, port_date=date(2026, 3, 20), pm=PM_B, contact=self.c3),
            order(f"{r3}-1", self.acme, carrier="Lumen", status=S.LOA_SENT, port_date=date(2026, 3, 20), since=at(10),
                  numbers={"+13125550101": None, "+13125550102": None}),
            order(f"{r3}-2", self.acme, carrier="Verizon", status=S.FOC_CONFIRMED, port_date=date(2026, 3, 20),
                  since=at(16), numbers={"+13125550103": None, "+13125550104": "maria@acme.example"}),
            # the carrier silent since Thursday 12 March (4 business days), another since Monday (2)
            request(r4, self.globex, status=S.SUBMITTED, port_date=date(2026, 4, 1), pm="", contact=f"g.{tag}@globex.example"),
            order(f"{r4}-1", self.globex, carrier="Comcast", status=S.CARRIER_PENDING, port_date=date(2026, 4, 1),
                  since=at(12, 15), raw_status="pending review", numbers={"+16465550111": "it@globex.example"}),
            order(f"{r4}-2", self.globex, carrier="Lumen", status=S.SUBMITTED, port_date=date(2026, 4, 1),
                  since=at(16), numbers={"+16465550112": "it@globex.example"}, with_request_id=False),
            # an LOA sent yesterday: not yet
            request(self.r5, self.initech, status=S.LOA_SENT, port_date=date(2026, 4, 20), pm=PM_A,
                    contact=f"i.{tag}@initech.example"),
            order(f"{self.r5}-1", self.initech, carrier="Lumen", status=S.LOA_SENT, port_date=date(2026, 4, 20),
                  since=at(17, 13), numbers={"+12125550150": "x@initech.example"}),
            # visibility still has the first LOA's date; the workflow resent it yesterday: not yet
            order(f"{self.r5}-2", self.initech, carrier="Verizon", status=S.LOA_SENT, port_date=date(2026, 4, 20),
                  since=at(5), live_since=at(17, 13), numbers={"+12125550151": "x@initech.example"}),
            # visibility still says documents, the workflow itself has them all: not at risk
            request(self.r6, f"Late Index {tag}", status=S.DOCUMENTS, live_status=S.VALIDATED,
                    port_date=date(2026, 4, 1), pm=PM_A, contact=f"li.{tag}@example.com"),
        ]


    async def prepare(self, sweeps: Sweeps) -> None:
        """The stored requests (as intake saves them) and the running ports."""
        store_request(self.r3, self.acme, pm=PM_B, contact=self.c3, signer="Dana Whitfield")
        store_request(self.r4, self.globex, pm=PM_B, contact=f"g.{sweeps.tag}@globex.example", signer="Gil Bates")
        await sweeps.start_ports(*self.ports)


def parse(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return body.get_content()


def mail(paths: list[Path]) -> dict[tuple[str, str], EmailMessage]:
    """(template, recipient address) -> message."""
    out: dict[tuple[str, str], EmailMessage] = {}
    for path in paths:
        msg = parse(path)
        key = (msg["X-Portflow-Template"], msg["To"].addresses[0].addr_spec)
        assert key not in out, f"two messages {key}"
        out[key] = msg
    return out


async def sweep(world: Sweeps, *, by_cli: bool = False) -> SweepResult:
    """Trigger the schedule and wait for the sweep it starts to finish."""
    before = (await world.client.get_schedule_handle(world.schedule_id).describe()).info.num_actions
    if by_cli:
        code, out = await cli("trigger")
        assert code == 0, out
        assert f"schedule {world.schedule_id} triggered" in out
    else:
        await schedules.trigger_schedule(world.client)
    desc = await eventually(lambda: world.client.get_schedule_handle(world.schedule_id).describe(),
                            lambda d: d.info.num_actions > before and d.info.recent_actions, what="the sweep to start")
    wid = desc.info.recent_actions[-1].action.workflow_id
    return await world.client.get_workflow_handle(wid, result_type=SweepResult).result()


async def test_sync_then_trigger_sends_one_digest_per_pm_and_one_reminder_per_contact_once_a_day(
    sweeps: Sweeps,
) -> None:
    w = World(sweeps.tag)
    sweeps.fix_clock(WEDNESDAY_9AM_NY)
    code, out = await cli("sync")
    assert code == 0, out
    assert (f"schedule {sweeps.schedule_id} created: business days (Mon-Fri, holidays skipped) at 09:00 "
            "America/New_York") in out
    assert f"/namespaces/default/schedules/{sweeps.schedule_id}" in out
    code, out = await cli("sync")
    assert code == 0 and f"schedule {sweeps.schedule_id} unchanged" in out, out
    listed = [s.id async for s in await sweeps.client.list_schedules() if s.id == sweeps.schedule_id]
    assert listed == [sweeps.schedule_id]  # what the UI's Schedules page lists

    async with sweeps.workers():
        await w.prepare(sweeps)
        result = await sweep(sweeps, by_cli=True)
        result_id = (await schedules.describe_schedule(sweeps.client)).recent[-1].workflow_id
        assert result.local_date == date(2026, 3, 18) and result.skipped is None
        assert result.findings == 5 and not result.failed
        files = sweeps.outbox()
        got = mail(files)
        assert sorted(got) == sorted([("digest", PM_A), ("digest", PM_B), ("port_reminder", w.c1),
                                      ("port_reminder", w.c3)])

        digest_a = text(got[("digest", PM_A)])
        assert got[("digest", PM_A)]["Subject"] == "1 port at risk on 2026-03-18"
        assert (f"- {w.r1} {w.uno}: documents missing (CSR for Lumen ({w.r1}-1), BILL for Lumen ({w.r1}-1)), "
                f"due today (2026-03-18); port date 2026-04-08 - http://localhost:8233/namespaces/default/"
                f"workflows/{w.r1}") in digest_a
        for quiet in (w.r2, w.r5, w.r6):
            assert quiet not in digest_a

        digest_b = got[("digest", PM_B)]
        assert digest_b["Subject"] == "4 ports at risk on 2026-03-18"
        lines = [line for line in text(digest_b).splitlines() if line.startswith("- ")]
        assert [re.sub(r" - http://\S+$", "", line) for line in lines] == [
            f"- {w.r3}-1 {w.acme} (Lumen): LOA unsigned since 2026-03-10 (8 days); signer Dana Whitfield; "
            "port date 2026-03-20",
            f"- {w.r4}-1 {w.globex} (Comcast): no FOC 4 business days after submission on 2026-03-12 "
            "(stage carrier_pending, carrier says 'pending review'); port date 2026-04-01",
            f"- {w.r3}-1 {w.acme} (Lumen): 2 numbers not assigned; port date 2026-03-20 (2 business days left)",
            f"- {w.r3}-2 {w.acme} (Verizon): 1 number not assigned; port date 2026-03-20 (2 business days left)",
        ]
        assert f"{w.r4}-2" not in text(digest_b)  # submitted Monday: 2 business days only
        assert "/namespaces/default/workflows/reminders-" in text(digest_b)  # the sweep's run

        uno = got[("port_reminder", w.c1)]
        assert uno["Subject"] == f"Recordatorio: lo que aún necesitamos para su portabilidad ({w.r1})"
        assert uno["Reply-To"] is not None and uno["Content-Language"] == "es"
        body = text(uno)
        assert "Documentos (envíelos a más tardar el 2026-03-18):" in body
        assert "- Registro de Servicio al Cliente (CSR) de su proveedor actual - Lumen" in body
        assert "Carta de Autorización" not in body and "sin asignar" not in body

        acme = text(got[("port_reminder", w.c3)])
        assert "To port the numbers of " + w.acme + " on 2026-03-20" in acme
        assert ("The Letter of Authorization (LOA) for Lumen is not signed yet (we sent it on 2026-03-10). "
                "Dana Whitfield, your authorized signer, can sign it") in acme
        assert "3 numbers are not assigned yet; the port date is 2026-03-20, in 2 business days:" in acme
        for shown in ("(312) 555-0101", "(312) 555-0102", "(312) 555-0103"):
            assert shown in acme
        assert "(312) 555-0104" not in acme and "Documents" not in acme
        assert not any(addr == f"g.{sweeps.tag}@globex.example" for _, addr in got)  # no FOC: the PM's

        # the same day again: everything was told already, nothing is sent
        again = await sweep(sweeps)
        assert again.findings == 5 and again.sent == [] and again.already_told == 9
        assert sweeps.outbox() == files

        # something new the same day: only it is told, to its PM and contact
        r7, c7 = new_request_id(), f"new.{sweeps.tag}@clinic.example"
        await sweeps.start_ports(request(r7, f"New Clinic {sweeps.tag}", status=S.DOCUMENTS, port_date=date(2026, 4, 10),
                                         pm=PM_A, contact=c7, missing=[f"BILL for Lumen ({r7}-1)"]))
        third = await sweep(sweeps)
        assert third.findings == 6 and len(third.sent) == 2
        new = mail([p for p in sweeps.outbox() if p not in files])
        assert sorted(new) == [("digest", PM_A), ("port_reminder", c7)]
        assert new[("digest", PM_A)]["Subject"] == "1 port at risk on 2026-03-18"
        assert r7 in text(new[("digest", PM_A)]) and w.r1 not in text(new[("digest", PM_A)])

        code, out = await cli("show")
    assert code == 0, out
    # the sweep's history replays on today's code (a changed workflow would break running sweeps)
    history = await sweeps.client.get_workflow_handle(result_id).fetch_history()
    await Replayer(workflows=[ReminderSweepWorkflow], workflow_runner=workflow_runner(),
                   **client_options()).replay_workflow(history)
    assert "state active" in out and "overlap SKIP" in out and "catch-up window 4 h" in out
    assert out.count("· Completed ·") == 3
    assert f"runs ReminderSweepWorkflow on task queue {sweeps.task_queue}" in out


async def test_the_smtp_channel_receives_the_same_messages_as_the_outbox(sweeps: Sweeps) -> None:
    w = World(sweeps.tag)
    sweeps.fix_clock(WEDNESDAY_9AM_NY)
    with smtp_server() as (controller, box):
        sweeps.configure(NOTIFY_CHANNELS='["outbox", "smtp"]', SMTP_HOST="127.0.0.1", SMTP_PORT=str(controller.port))
        await schedules.sync_schedule(sweeps.client)
        async with sweeps.workers():
            await w.prepare(sweeps)
            result = await sweep(sweeps)
            assert len(result.sent) == 4 and not result.failed
            again = await sweep(sweeps)
            assert again.sent == []
    outbox = {m["Message-ID"]: m for m in map(parse, sweeps.outbox())}
    received = {r.message["Message-ID"]: r for r in box.messages}
    assert len(received) == len(box.messages) == 4  # each once, the second sweep sent nothing
    assert received.keys() == outbox.keys()
    for mid, r in received.items():
        sent = outbox[mid]
        assert r.rcpt_tos == [a.addr_spec for a in sent["To"].addresses]
        assert r.message["Subject"] == sent["Subject"]
        assert text(r.message) == text(sent)  # type: ignore[arg-type]
    assert {r.rcpt_tos[0] for r in received.values()} == {PM_A, PM_B, w.c1, w.c3}


async def test_a_refused_address_does_not_stop_the_other_messages(sweeps: Sweeps) -> None:
    sweeps.fix_clock(WEDNESDAY_9AM_NY)
    tag, good, bad = sweeps.tag, new_request_id(), new_request_id()
    ports = [
        request(rid, f"{name} {tag}", status=S.DOCUMENTS, port_date=date(2026, 4, 8), pm=PM_A, contact=contact,
                missing=[f"CSR for Lumen ({rid}-1)"])
        for rid, name, contact in ((good, "Good", f"ok.{tag}@example.com"), (bad, "Typo", f"reject@{tag}.example"))
    ]
    with smtp_server() as (controller, box):
        sweeps.configure(NOTIFY_CHANNELS='["smtp"]', SMTP_HOST="127.0.0.1", SMTP_PORT=str(controller.port))
        await schedules.sync_schedule(sweeps.client)
        async with sweeps.workers():
            await sweeps.start_ports(*ports)
            with pytest.raises(WorkflowFailureError) as failure:
                await sweep(sweeps)
            view = await schedules.describe_schedule(sweeps.client)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RemindersNotSent"
    assert cause.message.startswith(f"1 of 3 reminder(s) not sent: reminder to reject@{tag}.example for {bad}")
    assert "550" in cause.message  # what the relay said
    assert sorted(r.rcpt_tos[0] for r in box.messages) == sorted([PM_A, f"ok.{tag}@example.com"])
    assert view.recent[-1].status == "Failed"  # ops see it on the schedule
