"""The LOA stage: send the LOA, remind the signer, take the e-signature's answer (event or
poll), and after a decline or expiry wait for the PM's corrected signer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.esign import EnvelopeEvent, EnvelopeInfo, EnvelopeStatus, LoaEnvelopeRequest, SignedDocuments
    from models.request import DocumentRef
    from models.status import LOA_OUT, PortStatus
    from models.workflow import EnvelopePoll, EnvelopeQuery, FetchSigned, RenderLoaInput, WaitingOn
    from workflows.common import act, fmt
    from workflows.port_order.waits import Poll, every

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus
ESIGN_BAD = frozenset({EnvelopeStatus.DECLINED, EnvelopeStatus.EXPIRED, EnvelopeStatus.VOIDED, EnvelopeStatus.BOUNCED})
MAX_POLL = timedelta(hours=6)


async def stage(o: Order) -> None:
    """VALIDATED, LOA_SENT, LOA_DECLINED: until the LOA is signed (or the order cancelled).
    The provider's event (a webhook, the local flow's sign/decline) answers at once; a poll
    (15 min, doubling up to 6 h, writing no history while nothing changes) finds what nobody
    reported, e.g. an envelope that expired."""
    if o.status == S.VALIDATED:
        await send_loa(o, "first LOA")
    opts = o.inp.options
    poll_every = timedelta(seconds=opts.esign_poll_seconds)
    remind_every = timedelta(hours=opts.loa_reminder_hours)
    poll = Poll("esign_poll", EnvelopeInfo)
    timed_for = -1
    try:
        while o.status in LOA_OUT:
            if o.st.loa_version != timed_for:  # a new LOA went out: its own reminders
                timed_for, reminders = o.st.loa_version, 0
                next_reminder = workflow.now() + remind_every
            env = o.st.envelope
            if o.status == S.LOA_SENT and env is not None:
                poll.ensure(EnvelopePoll(envelope_id=env.envelope_id, known=env.status), (env.envelope_id, env.status),
                            every(poll_every, backoff=2.0, at_most=max(poll_every, MAX_POLL)),
                            f"watch LOA envelope {env.envelope_id}")
                o.set_next(f"{o.inp.signer.name} signs the LOA", next_reminder, WaitingOn.SIGNER)
                wake: datetime | None = next_reminder
                summary = f"LOA v{o.st.loa_version} awaits signature; reminder {fmt(next_reminder)}"
            else:
                poll.stop()
                o.set_next("PM corrects the signer and resends the LOA", None, WaitingOn.PM)
                wake, summary = None, "LOA declined/expired: waiting for a corrected signer"
            await o.publish()
            got = await o.wait(lambda: bool(o.st.esign_q or o.st.amends) or poll.done(), wake, summary)
            while o.st.esign_q:
                await apply_esign(o, o.st.esign_q.pop(0))
            if (info := poll.take()) is not None and o.st.envelope is not None and info.status != o.st.envelope.status:
                await apply_esign(o, event_from(o, info, "poll"))
            await o.apply_amends()
            if got or o.status != S.LOA_SENT or workflow.now() < next_reminder:
                continue
            reminders += 1
            next_reminder = workflow.now() + remind_every
            await o.notify(f"loa_reminder:{o.st.loa_version}:{reminders}", "loa_reminder", [o.signer(), o.contact()],
                           signer_name=o.inp.signer.name, sent_date=_sent_date(o), sign_by=_sign_by(),
                           sign_hint=o.st.envelope.sign_url if o.st.envelope else "", reminder=reminders)
    finally:
        poll.stop()


async def send_loa(o: Order, why: str) -> None:
    """Render the LOA as the order stands and send it for signature (one envelope per version)."""
    st, acc = o.st, o.inp.account
    st.loa_version += 1
    doc = await act(
        "render_loa",
        RenderLoaInput(request_id=o.inp.request_id, order_id=o.id, customer_name=o.inp.customer_name,
                       signer=o.inp.signer, account=acc, port_date=o.inp.port_date),
        DocumentRef, summary=f"render LOA v{st.loa_version}: {acc.carrier}, {len(acc.numbers)} numbers",
    )
    st.envelope = await act(
        "send_loa",
        LoaEnvelopeRequest(
            idempotency_key=f"{o.id}:loa:{st.loa_version}", request_id=o.inp.request_id, order_id=o.id,
            signer_name=o.inp.signer.name, signer_title=o.inp.signer.title, signer_email=o.inp.signer.email,
            language=o.inp.language, loa=doc,
            subject=f"Letter of Authorization: port {len(acc.numbers)} numbers from {acc.carrier}",
        ),
        EnvelopeInfo, summary=f"send LOA v{st.loa_version} to {o.inp.signer.name}",
    )
    st.loa_sent_at = workflow.now()
    o.set_next(f"{o.inp.signer.name} signs the LOA", None, WaitingOn.SIGNER)
    await o.move(S.LOA_SENT, "system", f"LOA v{st.loa_version} sent to {o.inp.signer.name} ({why})")
    await o.notify(f"loa_sent:{st.loa_version}", "loa_sent", [o.signer(), o.contact()],
                   signer_name=o.inp.signer.name, sign_hint=st.envelope.sign_url or "",
                   number_count=len(acc.numbers), sign_by=_sign_by())
    if st.envelope.status == EnvelopeStatus.COMPLETED:  # signed at once (local auto-sign)
        await apply_esign(o, event_from(o, st.envelope, "send"))


async def void(o: Order, reason: str, summary: str) -> None:
    """Void the LOA envelope that is out (a cancel, or a correction before it was signed)."""
    assert o.st.envelope is not None
    o.st.envelope = await act("void_envelope", EnvelopeQuery(envelope_id=o.st.envelope.envelope_id, reason=reason),
                              EnvelopeInfo, summary=summary)


def event_from(o: Order, info: EnvelopeInfo, source: str) -> EnvelopeEvent:
    return EnvelopeEvent(
        event_id=f"{info.envelope_id}:{info.status.value}", order_id=o.id, envelope_id=info.envelope_id,
        status=info.status, at=info.status_at or workflow.now(), signer_name=info.signer_name,
        reason=info.reason, source=source,
    )


async def apply_esign(o: Order, ev: EnvelopeEvent) -> None:
    """The e-signature's answer: signed (store it, go on), or declined/expired/bounced/voided."""
    st = o.st
    if st.envelope is None or ev.envelope_id != st.envelope.envelope_id:
        return  # an old envelope we already replaced
    st.envelope = st.envelope.model_copy(update={"status": ev.status, "reason": ev.reason})
    if o.status != S.LOA_SENT:
        return
    if ev.status == EnvelopeStatus.COMPLETED:
        st.signed = await act("fetch_signed", FetchSigned(envelope_id=ev.envelope_id, request_id=o.inp.request_id,
                                                          order_id=o.id),
                              SignedDocuments, summary="store the signed LOA and certificate")
        who = ev.signer_name or o.inp.signer.name
        if o.inp.options.review_before_submit and st.approval is None:
            o.set_next("PM reviews the order and approves submission", None, WaitingOn.PM)
        else:
            o.set_next(f"submission to {o.carrier_name}", None, WaitingOn.NOBODY)
        await o.move(S.LOA_SIGNED, f"signer:{who}", f"LOA v{st.loa_version} signed by {who}")
        await o.notify(f"loa_signed:{st.loa_version}", "loa_signed", [o.contact(), o.pm()],
                       signer_name=who, signed_at=fmt(ev.at))
    elif ev.status in ESIGN_BAD:
        why = {
            EnvelopeStatus.DECLINED: f"signer declined: {ev.reason or 'no reason given'}",
            EnvelopeStatus.EXPIRED: "the LOA expired unsigned",
            EnvelopeStatus.BOUNCED: f"the signer's e-mail bounced: {ev.reason or o.inp.signer.email}",
            EnvelopeStatus.VOIDED: f"the envelope was voided: {ev.reason or 'outside portflow'}",
        }[ev.status]
        o.set_next("PM corrects the signer and resends the LOA", None, WaitingOn.PM)
        await o.move(S.LOA_DECLINED, "esign", why)
        template = "loa_expired" if ev.status == EnvelopeStatus.EXPIRED else "loa_declined"
        await o.notify(f"{template}:{st.loa_version}", template, [o.pm()], reason=why, decline_reason=why,
                       signer_name=o.inp.signer.name, signer_email=str(o.inp.signer.email),
                       sent_date=_sent_date(o),
                       fix=f"python starter.py amend {o.id} --signer-name ... --signer-email ...")


def _sent_date(o: Order) -> str:
    return o.st.loa_sent_at.date().isoformat() if o.st.loa_sent_at else "-"


def _sign_by() -> str:
    return (workflow.now() + timedelta(days=3)).date().isoformat()
