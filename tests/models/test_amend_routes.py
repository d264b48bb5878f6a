"""The amend routing table (models/amend.py): status x what changed -> what happens.

The order workflow does what this table says (workflows/port_order/changes.py); the end-to-end
paths (tests/workflows/test_carrier_exceptions.py, test_loa_paths.py, test_order_rules.py)
show each action happening. Here the table itself is read, whole.
"""

from __future__ import annotations

from datetime import date

import pytest

from models.amend import AMEND_ROUTES, AmendAction, AmendChange, AmendPlace, amend_change, amend_place, route
from models.request import Signer
from models.status import AMEND_WAITS, TERMINAL, TRANSITIONS, PortStatus
from models.workflow import AmendOrder

S, A, C, P = PortStatus, AmendAction, AmendChange, AmendPlace
SIGNER = Signer(name="Dana Whitfield", title="IT Director", email="dana@contoso.example")

# The whole table, written out: (where the order stands) -> (signer, LOA data, date alone)
EXPECTED = {
    P.BEFORE_LOA: (A.CARRY, A.CARRY, A.CARRY),
    P.LOA_SENT: (A.NEW_LOA, A.NEW_LOA, A.CARRY),
    P.LOA_DECLINED: (A.NEW_LOA, A.NEW_LOA, A.CARRY),
    P.LOA_SIGNED: (A.NEW_LOA, A.NEW_LOA, A.CARRY),
    P.REFUSED_AT_SUBMISSION: (A.NEW_LOA, A.RESUBMIT, A.RESUBMIT),
    P.EXCEPTION: (A.NEW_LOA_THEN_SUP3, A.SUP3, A.SUP2),
    P.CARRIER_PENDING: (A.SUP3, A.SUP3, A.SUP2),
    P.FOC_CONFIRMED: (A.SUP3, A.SUP3, A.SUP2),
    P.SNAPBACK: (A.SUP3, A.SUP3, A.SUP2),
}


def test_the_table_is_exactly_as_written() -> None:
    got = {place: tuple(AMEND_ROUTES[place][c] for c in (C.SIGNER, C.LOA_DATA, C.DATE)) for place in AMEND_ROUTES}
    wrong = {p: (got.get(p), want) for p, want in EXPECTED.items() if got.get(p) != want}
    assert not wrong and set(got) == set(EXPECTED), f"place: (table, expected): {wrong}"
    assert all(set(AMEND_ROUTES[p]) == set(AmendChange) for p in AMEND_ROUTES), "a change with no action"


def test_every_status_an_order_passes_either_takes_an_amendment_or_says_to_wait() -> None:
    """No status falls through: the validator refuses exactly the statuses without a place."""
    order_statuses = set(TRANSITIONS) - {S.INTAKE, S.DOCUMENTS}
    for status in order_statuses:
        for open_order in (False, True):
            place = amend_place(status, open_order)
            if status in AMEND_WAITS or status in TERMINAL:
                assert place is None, status
            else:
                assert place is not None and place in AMEND_ROUTES, status


def _amend(**fields) -> AmendOrder:
    return AmendOrder(actor="pm@x.example", order_id="PR-1-1", reason="fix it", **fields)


@pytest.mark.parametrize(("amend", "change"), [
    (_amend(signer=SIGNER), C.SIGNER),
    (_amend(new_loa=True), C.SIGNER),
    (_amend(signer=SIGNER, port_date=date(2027, 1, 4)), C.SIGNER),  # the costlier part decides
    (_amend(btn="+12125550100"), C.LOA_DATA),
    (_amend(entity_name="Contoso Dental LLC"), C.LOA_DATA),
    (_amend(remove_numbers=["+12125550101"]), C.LOA_DATA),
    (_amend(btn="+12125550100", port_date=date(2027, 1, 4)), C.LOA_DATA),
    (_amend(port_date=date(2027, 1, 4)), C.DATE),
])
def test_what_an_amendment_changes(amend: AmendOrder, change: AmendChange) -> None:
    assert amend_change(amend) == change


def test_an_exception_routes_by_whether_the_carrier_holds_the_order() -> None:
    fix = _amend(btn="+12125550100")
    assert route(S.EXCEPTION, False, fix) == A.RESUBMIT  # it refused the submission itself
    assert route(S.EXCEPTION, True, fix) == A.SUP3
    assert route(S.SUBMITTED, True, fix) is None  # wait for the carrier's answer
