"""Every status an order can wait in belongs to exactly one stage of PortOrderWorkflow."""

from __future__ import annotations

from models.status import TERMINAL, PortStatus, reachable
from workflows.port_order.workflow import STAGES

S = PortStatus


def test_every_status_an_order_reaches_has_its_stage() -> None:
    # an order starts VALIDATED; CANCEL_REQUESTED belongs to the cancel path, which ends it
    waits_in = reachable(S.VALIDATED) - TERMINAL - {S.CANCEL_REQUESTED}
    assert set(STAGES) == waits_in, f"no stage: {waits_in - set(STAGES)}; never reached: {set(STAGES) - waits_in}"
