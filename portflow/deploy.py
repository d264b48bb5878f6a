"""Worker Deployment versions: which build of the worker new ports (and, since the port
workflows auto-upgrade, ports in flight) run on. ``starter.py deploy`` and ``worker.py``
use this; docs/upgrades.md says when to run what.

A worker is one version (``deployment name`` + ``build id``) of a Worker Deployment. Its
first poll registers the version on the server; nothing runs on it until it is made
current, or ramped to a percentage of new workflows. Everything goes through the client's
``workflow_service``, so it works the same on the dev server, a self-hosted cluster and
Temporal Cloud (Temporal Server 1.28 or later; the time-skipping test server has no
deployments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from temporalio.common import WorkerDeploymentVersion

from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from temporalio.client import Client

UNVERSIONED = "__unversioned__"


class DeployProblem(Exception):
    """The deployment cannot be changed or read as asked; the message says what to do."""


def this_build_id(settings: Settings | None = None) -> str:
    """``PORTFLOW_WORKER_BUILD_ID``, or ``portflow-<package version>`` when it is empty.

    Two different codes must never share a build id: set it to the commit in CI."""
    s = settings or get_settings()
    if s.worker_build_id:
        return s.worker_build_id
    try:
        return f"portflow-{version('portflow')}"
    except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
        raise DeployProblem("portflow is not installed, so it has no package version to build from: "
                            "`make install`, or set PORTFLOW_WORKER_BUILD_ID") from None


def this_version(settings: Settings | None = None) -> WorkerDeploymentVersion:
    s = settings or get_settings()
    return WorkerDeploymentVersion(deployment_name=s.worker_deployment_name, build_id=this_build_id(s))


@dataclass
class VersionRow:
    build_id: str
    status: str  # inactive, current, ramping, draining, drained, created
    created: datetime | None


@dataclass
class DeploymentView:
    name: str
    current: str | None  # None: unversioned workers take new workflows
    ramping: str | None
    ramp_percent: float
    versions: list[VersionRow] = field(default_factory=list)
    propagating: bool = False  # the last change is still reaching the task queues


def _status_name(value: int) -> str:
    from temporalio.api.enums.v1 import WorkerDeploymentVersionStatus

    return WorkerDeploymentVersionStatus.Name(value).removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()


def _problem(err: Exception, name: str, build_id: str | None, s: Settings) -> Exception:
    """A DeployProblem for the server errors a person can act on; others pass unchanged."""
    from temporalio.service import RPCError, RPCStatusCode

    if not isinstance(err, RPCError):
        return err
    where = f"{s.temporal_address} (namespace {s.temporal_namespace})"
    if err.status == RPCStatusCode.UNIMPLEMENTED or "not yet supported" in str(err):
        return DeployProblem(f"the server at {where} has no Worker Deployments ({err.message}): use Temporal "
                             "Server 1.28 or later, or run unversioned workers with PORTFLOW_WORKER_VERSIONING=false")
    if err.status == RPCStatusCode.NOT_FOUND:
        what = f"build {build_id} of Worker Deployment '{name}'" if build_id else f"Worker Deployment '{name}'"
        return DeployProblem(f"no {what} on {where}: a version exists once one of its workers has polled; "
                             f"start that worker first (python worker.py with PORTFLOW_WORKER_DEPLOYMENT_NAME={name}"
                             + (f" and PORTFLOW_WORKER_BUILD_ID={build_id}" if build_id else "") + ")")
    if err.status in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.INVALID_ARGUMENT):
        hint = ""
        if "missing active task queues" in err.message:
            hint = (f": build {build_id}'s workers have not polled every task queue yet (a few seconds after they "
                    "start; a worker of this build must serve the workflow and activity task queues); try again")
        return DeployProblem(f"the server refused to change Worker Deployment '{name}': {err.message}{hint}")
    return err


async def describe(client: Client, settings: Settings | None = None) -> DeploymentView:
    from temporalio.api.enums.v1 import RoutingConfigUpdateState
    from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest

    s = settings or get_settings()
    name = s.worker_deployment_name
    try:
        resp = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name))
    except Exception as err:
        raise _problem(err, name, None, s) from err
    info = resp.worker_deployment_info
    rc = info.routing_config
    current = rc.current_deployment_version.build_id or None
    ramping = rc.ramping_deployment_version.build_id or None
    rows = [VersionRow(build_id=v.deployment_version.build_id, status=_status_name(v.status),
                       created=v.create_time.ToDatetime() if v.HasField("create_time") else None)
            for v in info.version_summaries]
    rows.sort(key=lambda r: (r.created is None, r.created))
    return DeploymentView(name=name, current=current, ramping=ramping,
                          ramp_percent=rc.ramping_version_percentage if ramping else 0.0, versions=rows,
                          propagating=info.routing_config_update_state
                          == RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS)


async def set_current(client: Client, build_id: str | None = None, settings: Settings | None = None) -> str | None:
    """Make ``build_id`` (default: this tree's build) the current version: new ports start on
    it, and the port workflows (auto-upgrade) move to it at their next workflow task.
    Returns the build that was current before (None: unversioned)."""
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest

    s = settings or get_settings()
    build = build_id or this_build_id(s)
    try:
        resp = await client.workflow_service.set_worker_deployment_current_version(
            SetWorkerDeploymentCurrentVersionRequest(namespace=client.namespace, deployment_name=s.worker_deployment_name,
                                                     build_id=build, identity=client.identity))
    except Exception as err:
        raise _problem(err, s.worker_deployment_name, build, s) from err
    return resp.previous_deployment_version.build_id or None


async def set_ramping(client: Client, percent: float, build_id: str | None = None,
                      settings: Settings | None = None) -> None:
    """Send ``percent`` of new workflows (and auto-upgrade ones at their next task) to
    ``build_id`` (default: this tree's build); the rest stay on the current version."""
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentRampingVersionRequest

    if not 0 <= percent <= 100:
        raise DeployProblem(f"ramp to {percent:g}%: give a percentage from 0 to 100, e.g. `deploy ramp 10`")
    s = settings or get_settings()
    build = build_id or this_build_id(s)
    try:
        await client.workflow_service.set_worker_deployment_ramping_version(
            SetWorkerDeploymentRampingVersionRequest(namespace=client.namespace, deployment_name=s.worker_deployment_name,
                                                     build_id=build, percentage=percent, identity=client.identity))
    except Exception as err:
        raise _problem(err, s.worker_deployment_name, build, s) from err


async def version_warning(client: Client, settings: Settings | None = None) -> str | None:
    """What a worker logs at start when its build gets no work: None when it is current or
    ramping; otherwise what to run. Never raises (the worker keeps polling either way)."""
    s = settings or get_settings()
    build = this_build_id(s)
    try:
        view = await describe(client, s)
    except DeployProblem as problem:
        if "no Worker Deployment" not in str(problem):
            return str(problem)
        view = DeploymentView(name=s.worker_deployment_name, current=None, ramping=None, ramp_percent=0)
    except Exception as err:  # noqa: BLE001 - a warning, not a reason to stop
        return f"cannot read Worker Deployment '{s.worker_deployment_name}': {err}"
    if build in (view.current, view.ramping):
        return None
    now = f"build {view.current} is current" if view.current else "no build is current (unversioned workers take it)"
    return (f"build {build} of Worker Deployment '{view.name}' gets no workflows yet: {now}. Once "
            f"`python starter.py replay` passes, run `python starter.py deploy current` (or `deploy ramp 10`)")


async def polled_task_queues(client: Client, build_id: str | None = None, settings: Settings | None = None) -> set[str]:
    """The task queues that workers of ``build_id`` (default: this build) have polled, with
    both their workflow and activity pollers; empty when the version is unknown yet."""
    from temporalio.api.deployment.v1 import WorkerDeploymentVersion as VersionProto
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentVersionRequest
    from temporalio.service import RPCError, RPCStatusCode

    s = settings or get_settings()
    build = build_id or this_build_id(s)
    try:
        resp = await client.workflow_service.describe_worker_deployment_version(DescribeWorkerDeploymentVersionRequest(
            namespace=client.namespace,
            deployment_version=VersionProto(deployment_name=s.worker_deployment_name, build_id=build)))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return set()
        raise _problem(err, s.worker_deployment_name, build, s) from err
    kinds: dict[str, set[int]] = {}
    for tq in resp.version_task_queues:
        kinds.setdefault(tq.name, set()).add(tq.type)
    both = {TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}
    return {name for name, types in kinds.items() if both <= types}


async def make_current_when_polling(client: Client, task_queue: str, *, timeout: float = 30.0,
                                    settings: Settings | None = None) -> str | None:
    """For the demo and the tests, which run the build they just started: wait until this
    build's worker polls ``task_queue``, make the build current (unless it is), and wait until
    the routing reached the task queues. Returns the build that was current before.
    Production promotes on purpose, after a replay: ``starter.py deploy current``."""
    import asyncio
    from typing import Any

    from temporalio.service import RPCError, RPCStatusCode

    s = settings or get_settings()
    build = this_build_id(s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.2

    async def patiently(call: Any) -> Any:
        """``call()``, again after a pause while the server says "too many requests" (the dev
        server limits the deployment APIs; a loaded box polling at 5/s met it)."""
        nonlocal pause
        while True:
            try:
                return await call()
            except Exception as err:  # noqa: BLE001 - only the rate limit is retried
                cause = err.__cause__ if err.__cause__ is not None else err
                limited = isinstance(cause, RPCError) and cause.status == RPCStatusCode.RESOURCE_EXHAUSTED
                if not limited or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def wait() -> None:
        nonlocal pause
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 1.0)

    while task_queue not in await patiently(lambda: polled_task_queues(client, build, s)):
        if loop.time() > deadline:
            raise DeployProblem(f"build {build} has not polled task queue {task_queue} within {timeout:g} s: "
                                "is its worker running with PORTFLOW_WORKER_VERSIONING=true?")
        await wait()
    view = await patiently(lambda: describe(client, s))
    before = view.current
    if view.current != build:
        before = await patiently(lambda: set_current(client, build, s))
    while (await patiently(lambda: describe(client, s))).propagating:
        if loop.time() > deadline:
            raise DeployProblem(f"build {build} is current but the change has not reached every task queue "
                                f"within {timeout:g} s")
        await wait()
    return before
