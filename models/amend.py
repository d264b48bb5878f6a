"""What an amendment does to an order: one table, status x what changed -> what happens.

A PM corrects an order with ``amend`` (``starter.py amend``). The data always changes in the
order; what it then costs depends on where the order stands and on what changed:

* before submission, a change of what the LOA prints means a new LOA (the old one voided);
  a date alone is carried into the submission;
* a submission the carrier refused (no carrier order yet) goes in afresh, after a new LOA when
  the signer changed;
* once the carrier holds the order, corrections go by supplement: SUP2 for a date alone, SUP3
  for data; a new signer first signs a new LOA, which the SUP3 then carries.

Statuses missing from :data:`AMEND_ROUTES` take no amendment (the update's validator says why:
the carrier is answering, the numbers are switching, or the order has ended).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from models.status import PortStatus
from models.workflow import AmendOrder

S = PortStatus


class AmendChange(StrEnum):
    """What an amendment changes, by what it costs (the most costly part decides)."""

    SIGNER = "signer"  # a new signer, or an explicit new LOA: someone must sign again
    LOA_DATA = "loa_data"  # account data, the entity's name or numbers removed: what the LOA prints
    DATE = "date"  # the port date alone


class AmendAction(StrEnum):
    CARRY = "carry"  # recorded; the LOA and the submission to come use it
    NEW_LOA = "new_loa"  # void the LOA out (if any) and send a new one
    RESUBMIT = "resubmit"  # submit the corrected order again
    NEW_LOA_THEN_SUP3 = "new_loa_then_sup3"  # the new signer signs; the LOA goes to the carrier by SUP3
    SUP2 = "sup2"  # a new due date at the carrier
    SUP3 = "sup3"  # corrections at the carrier


class AmendPlace(StrEnum):
    """Where the order stands for an amendment: its status, with an exception split by
    whether the carrier holds an order (it refused the submission itself, or not)."""

    BEFORE_LOA = "validated"
    LOA_SENT = "loa_sent"
    LOA_DECLINED = "loa_declined"
    LOA_SIGNED = "loa_signed"
    REFUSED_AT_SUBMISSION = "exception_without_carrier_order"
    EXCEPTION = "exception"
    CARRIER_PENDING = "carrier_pending"
    FOC_CONFIRMED = "foc_confirmed"
    SNAPBACK = "snapback"


A, C, P = AmendAction, AmendChange, AmendPlace
_NEW_LOA_OR_CARRY = {C.SIGNER: A.NEW_LOA, C.LOA_DATA: A.NEW_LOA, C.DATE: A.CARRY}
_BY_SUPPLEMENT = {C.SIGNER: A.SUP3, C.LOA_DATA: A.SUP3, C.DATE: A.SUP2}

AMEND_ROUTES: Mapping[AmendPlace, Mapping[AmendChange, AmendAction]] = {
    P.BEFORE_LOA: {C.SIGNER: A.CARRY, C.LOA_DATA: A.CARRY, C.DATE: A.CARRY},
    P.LOA_SENT: _NEW_LOA_OR_CARRY,
    P.LOA_DECLINED: _NEW_LOA_OR_CARRY,
    P.LOA_SIGNED: _NEW_LOA_OR_CARRY,
    P.REFUSED_AT_SUBMISSION: {C.SIGNER: A.NEW_LOA, C.LOA_DATA: A.RESUBMIT, C.DATE: A.RESUBMIT},
    P.EXCEPTION: {C.SIGNER: A.NEW_LOA_THEN_SUP3, C.LOA_DATA: A.SUP3, C.DATE: A.SUP2},
    P.CARRIER_PENDING: _BY_SUPPLEMENT,
    P.FOC_CONFIRMED: _BY_SUPPLEMENT,
    P.SNAPBACK: _BY_SUPPLEMENT,
}


def amend_place(status: PortStatus, carrier_order_open: bool) -> AmendPlace | None:
    """Where an order in ``status`` stands for an amendment; None: it takes none now."""
    if status == S.EXCEPTION:
        return P.EXCEPTION if carrier_order_open else P.REFUSED_AT_SUBMISSION
    try:
        return AmendPlace(status.value)
    except ValueError:
        return None


def amend_change(a: AmendOrder) -> AmendChange:
    if a.signer is not None or a.new_loa:
        return C.SIGNER
    if a.account_updates() or a.entity_name is not None or a.remove_numbers:
        return C.LOA_DATA
    return C.DATE


def route(status: PortStatus, carrier_order_open: bool, a: AmendOrder) -> AmendAction | None:
    """What ``a`` does to an order in ``status``; None when the order takes no amendment now."""
    place = amend_place(status, carrier_order_open)
    return AMEND_ROUTES[place][amend_change(a)] if place is not None else None
