"""Verification after activation: a pluggable routing check.

The default check is the PM's own test calls (the workflow waits for ``starter.py
verify``); ``verification: auto`` runs :func:`verify_routing`, which asks the inventory
whether every ported number is routed to us. A real deployment can replace it with a
test-call probe registered under the same activity name.
"""

from __future__ import annotations

from temporalio import activity

from models.workflow import VerifyInput, VerifyResult
from store import inventory
from store.db import session_scope


@activity.defn(name="verify_routing")
def verify_routing(inp: VerifyInput) -> VerifyResult:
    request_id = inp.order_id.rsplit("-", 1)[0]
    with session_scope() as s:
        rows = {r.tn: r for r in inventory.numbers_of(session=s, request_id=request_id)}
    missing = [tn for tn in inp.numbers if tn not in rows]
    if missing:
        return VerifyResult(ok=False, detail=f"not in the inventory: {', '.join(missing)}")
    return VerifyResult(ok=True, detail=f"{len(inp.numbers)} numbers in the inventory and routed to us")
