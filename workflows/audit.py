"""Status changes reach the store with the workflow's next activity, not with one of their own.

A status move used to cost a ``record_status`` activity: three events and a workflow task of
three more, for every move of every port. Now :meth:`AuditTrail.add` only notes the change,
and every activity the workflow starts carries every change the store has not confirmed yet
in its ``portflow-audit`` header; the worker's activity interceptor
(``activities.audit``) writes them before the activity runs, on every attempt (the store
keeps a change once). A change is confirmed when an activity that carried it completes. A
wait with unsent changes, and the workflow's end, flush them with ``record_status``.

The interceptors that carry and write them are in ``activities.audit`` (this module stays
free of ``temporalio.worker``, which the CLI would import with it); both halves must be on
every worker and replayer of these workflows: ``INTERCEPTORS`` (``worker.build_worker`` and
the tests use it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.status import StatusChange
    from models.workflow import AuditInput

HEADER = "portflow-audit"
FLUSH_ACTIVITY = "record_status"


@dataclass
class _Entry:
    change: StatusChange
    carriers: int = 0  # activities in flight that carry it
    confirmed: bool = False


class AuditTrail:
    """The changes of one workflow that the store may not have yet, oldest first."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []

    def add(self, change: StatusChange) -> None:
        self.entries.append(_Entry(change))

    def unsent(self) -> bool:
        """A change that no activity in flight carries: only a flush would write it now."""
        return any(e.carriers == 0 and not e.confirmed for e in self.entries)

    def take(self) -> list[_Entry]:
        """Every unconfirmed change, in order (an earlier one may still be in flight with a
        slow activity: the store applies changes in order, so each batch holds them all)."""
        batch = [e for e in self.entries if not e.confirmed]
        for e in batch:
            e.carriers += 1
        return batch

    def settled(self, batch: list[_Entry], ok: bool) -> None:
        for e in batch:
            e.carriers -= 1
            e.confirmed = e.confirmed or ok
        self.entries = [e for e in self.entries if not e.confirmed]

    def payload(self, batch: list[_Entry]) -> AuditInput:
        return AuditInput(changes=[e.change for e in batch])


def trail_of(instance: Any) -> AuditTrail | None:
    return getattr(instance, "audit_trail", None)
