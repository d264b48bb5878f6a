"""After a run: what each system holds, counted so that a duplicate shows.

A duplicate is a second envelope for an order, a second carrier order (or a second
``submit`` on one) for an order, a second row for a number, or a second mail with the same
template, recipient and order, beyond what the undisturbed run made of the same port.
"""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from collections import Counter
from email.utils import getaddresses
from pathlib import Path


def envelopes(var: Path) -> Counter[str]:
    """Envelopes per order (the local e-signature's records)."""
    out: Counter[str] = Counter()
    for path in (var / "esign-local" / "envelopes").glob("*.json"):
        out[f"envelope {json.loads(path.read_text('utf-8')).get('order_id')}"] += 1
    return out


def carrier_orders(var: Path) -> Counter[str]:
    """Carrier orders per order, and ``submit`` events on each (the simulator's records)."""
    out: Counter[str] = Counter()
    for path in (var / "carrier-sim").glob("SIM-*.json"):
        rec = json.loads(path.read_text("utf-8"))
        out[f"carrier order for {rec['order_id']}"] += 1
        out[f"submission of {rec['order_id']}"] += sum(1 for e in rec["events"] if e["kind"] == "submit")
    return out


def inventory_rows(var: Path) -> Counter[str]:
    """Inventory rows per number (live or released)."""
    db = var / "portflow.db"
    if not db.exists():
        return Counter()
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT tn, COUNT(*) FROM inventory_numbers GROUP BY tn").fetchall()
    return Counter({f"inventory row {tn}": n for tn, n in rows})


def mails(var: Path) -> Counter[str]:
    """Mails per template, recipient and order (the outbox)."""
    out: Counter[str] = Counter()
    for path in (var / "outbox").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        order = str(msg["X-Portflow-Order"] or msg["X-Portflow-Request"] or "-")
        for _, addr in getaddresses([str(msg["To"] or "")]):
            out[f"mail {msg['X-Portflow-Template']} to {addr} about {order}"] += 1
    return out


def holdings(var: Path) -> dict[str, Counter[str]]:
    return {"envelopes": envelopes(var), "carrier submissions": carrier_orders(var),
            "inventory rows": inventory_rows(var), "mails": mails(var)}


def duplicates(run: Counter[str], baseline: Counter[str]) -> list[str]:
    """Keys held more than once, and more often than in the undisturbed run."""
    return [f"{key}: {n} (undisturbed: {baseline.get(key, 0)})" for key, n in sorted(run.items())
            if n > max(1, baseline.get(key, 0))]


def differences(run: dict[str, object], baseline: dict[str, object], what: str) -> list[str]:
    """How an end state differs from the undisturbed run's."""
    if run == baseline:
        return []
    return [f"{what}: {run} (undisturbed: {baseline})"]
