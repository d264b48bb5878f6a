"""Replay before deploy: the histories of the ports in flight, fetched from the configured
server, replayed on this tree's workflow code (``starter.py replay``, ``make replay``).

A history that does not replay is a port the new build would break: its next workflow
task would fail with a nondeterminism error and it would stop until the code is fixed. The
replayer is :func:`portflow.runtime.build_replayer`, the worker's own configuration. It only
reads: it works with the worker's settings against the dev server, a self-hosted cluster or
Temporal Cloud (``portflow.temporal.connect``; visibility queries need a server with
visibility, which every one of these has).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.runtime import Runtime
    from temporalio.worker import Replayer

# Every port in flight: the requests and their orders, the open support cases, the
# implementation projects and the outgoing webhook deliveries still backing off, all auto-upgrade
# (the daily sweep is short and pinned).
IN_FLIGHT = ("ExecutionStatus = 'Running' AND "
             "(WorkflowType = 'PortRequestWorkflow' OR WorkflowType = 'PortOrderWorkflow' "
             "OR WorkflowType = 'SupportCaseWorkflow' OR WorkflowType = 'ImplementationWorkflow' "
             "OR WorkflowType = 'WebhookDeliveryWorkflow')")


@dataclass
class Replayed:
    workflow_id: str
    run_id: str
    workflow_type: str
    error: str = ""  # empty: replayed cleanly


@dataclass
class ReplayReport:
    query: str
    results: list[Replayed] = field(default_factory=list)

    @property
    def broken(self) -> list[Replayed]:
        return [r for r in self.results if r.error]


def explain(err: BaseException) -> str:
    """One line on why a history does not replay. A nondeterminism error names the command
    the code issued against the event the history holds (e.g. an activity ``check_credit``
    scheduled where the history has ``record_request``); the SDK wraps it in a debug dump
    of the failure, from which only its message is kept."""
    import re

    parts: list[str] = []
    seen: BaseException | None = err
    while seen is not None and len(parts) < 4:
        text = " ".join(str(seen).split()) or type(seen).__name__
        inner = re.search(r'message: "((?:[^"\\]|\\.)*)"', text)
        text = inner.group(1) if inner else text
        if text not in parts:
            parts.append(text)
        seen = seen.__cause__ or seen.__context__
    line = ": ".join(parts)
    return line if len(line) <= 600 else line[:597] + "..."


def quiet_runtime() -> Runtime:
    """A runtime whose core logs only errors: a history that does not replay is reported
    once, by :func:`replay_in_flight`, not also as the worker's "failing workflow task" warning."""
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))))


async def replay_in_flight(client: Client, query: str = IN_FLIGHT, *, limit: int | None = None,
                           replayer: Replayer | None = None) -> ReplayReport:
    """Replay every workflow ``query`` matches (at most ``limit``) and report each one."""
    from portflow.runtime import build_replayer

    replayer = replayer or build_replayer(quiet_runtime())
    report = ReplayReport(query=query)
    executions = client.list_workflows(query, limit=limit)
    types: dict[tuple[str, str], str] = {}

    async def histories():  # noqa: ANN202 - an async iterator of WorkflowHistory
        async for execution in executions:
            types[(execution.id, execution.run_id)] = execution.workflow_type
            yield await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()

    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            wid, run_id = result.history.workflow_id, result.history.run_id
            error = explain(result.replay_failure) if result.replay_failure else ""
            report.results.append(Replayed(workflow_id=wid, run_id=run_id,
                                           workflow_type=types.get((wid, run_id), "?"), error=error))
    return report
