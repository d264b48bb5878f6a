"""What every worker and every replayer of portflow's workflows shares: the workflows, the
sandbox, the interceptors and the data converter. ``worker.build_worker`` runs them;
:func:`build_replayer` replays histories exactly as that worker would (``starter.py replay``,
tests/workflows/test_replay.py): a replayer that differs from the worker proves nothing.
"""

from __future__ import annotations

from temporalio.runtime import Runtime
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.audit import INTERCEPTORS
from portflow.temporal import client_options
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow
from workflows.project import ImplementationWorkflow
from workflows.reminders import ReminderSweepWorkflow
from workflows.support_case import SupportCaseWorkflow
from workflows.webhooks import WebhookDeliveryWorkflow

WORKFLOWS = [PortRequestWorkflow, PortOrderWorkflow, ReminderSweepWorkflow, SupportCaseWorkflow,
             ImplementationWorkflow, WebhookDeliveryWorkflow]


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with the pure libraries the models use passed through (phonenumbers
    loads region data lazily behind a threading.Lock, which the sandbox refuses, so a fresh
    worker's first request failed its workflow task), and portflow's own deterministic
    modules: models, core and workflows. A sandbox re-imports every other module for each
    workflow it runs; passing workflows/ through took a waiting port from 251 to 151 KiB of
    worker memory (bench row 3). The sandbox then no longer checks workflows/ for clocks and
    I/O: tests/workflows/test_workflow_purity.py does."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "phonenumbers", "email_validator", "idna", "pydantic", "models", "core", "workflows"
        )
    )


def build_replayer(runtime: Runtime | None = None) -> Replayer:
    """A replayer that runs histories as ``worker.build_worker``'s worker would: the same
    workflows, data converter and header codec (``portflow.temporal.client_options``, as ``connect``), sandbox and
    interceptors (without them the audit headers the workflows attach to activities would
    not be rebuilt and every history with a status move would fail)."""
    return Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(), interceptors=INTERCEPTORS,
                    runtime=runtime, **client_options(encode_failures=False))
