"""``starter.py setup`` on a fresh namespace of a dev server: search attributes and the reminder
schedule registered, a second run changes nothing; a missing namespace, an attribute of the
wrong type and Temporal Cloud (where the operator API cannot add them) each end with a clear
message instead of an obscure failure."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from portflow.temporal import connect

from core.settings import Settings
from portflow import setup as steps
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]


async def fresh_namespace(client) -> str:  # noqa: ANN001
    name = f"fresh-{uuid.uuid4().hex[:8]}"
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=name, workflow_execution_retention_period=Duration(seconds=86400)))
    return name


async def scoped(env, namespace: str) -> Client:  # noqa: ANN001
    return await connect(address=env.client.service_client.config.target_host, namespace=namespace)


def starter(env, namespace: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run(
        [sys.executable, "starter.py", "setup", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PORTFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
             "PORTFLOW_TEMPORAL_NAMESPACE": namespace, "PORTFLOW_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"})


async def custom_attributes(client, namespace: str) -> dict:  # noqa: ANN001
    resp = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return dict(resp.custom_attributes)


async def test_setup_registers_everything_then_changes_nothing(dev_env, tmp_path: Path) -> None:  # noqa: ANN001
    ns = await fresh_namespace(dev_env.client)
    first = starter(dev_env, ns, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "search attributes: added PortStatus" in first.stdout
    assert "schedule portflow-reminders created" in first.stdout and f"namespace {ns}" in first.stdout
    assert set(SEARCH_ATTRIBUTES) <= set(await custom_attributes(dev_env.client, ns))
    assert (tmp_path / "var" / "portflow.db").exists()  # the database schema too
    desc = await (await scoped(dev_env, ns)).get_schedule_handle("portflow-reminders").describe()
    assert desc.id == "portflow-reminders"  # in the namespace setup was pointed at

    again = starter(dev_env, ns, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"search attributes: all {len(SEARCH_ATTRIBUTES)} already there" in again.stdout
    assert "schedule portflow-reminders unchanged" in again.stdout


async def test_a_missing_namespace_is_named(dev_env, tmp_path: Path) -> None:  # noqa: ANN001
    run = starter(dev_env, "no-such-namespace", tmp_path, "--no-migrate")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "namespace 'no-such-namespace' does not exist" in run.stderr and "Traceback" not in run.stderr


async def test_an_attribute_of_the_wrong_type_is_named(dev_env) -> None:  # noqa: ANN001
    ns = await fresh_namespace(dev_env.client)
    await dev_env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=ns, search_attributes={"PortStatus": IndexedValueType.INDEXED_VALUE_TYPE_TEXT}))
    s = Settings(temporal_address=dev_env.client.service_client.config.target_host, temporal_namespace=ns)
    with pytest.raises(steps.SetupProblem, match="PortStatus is TEXT, not Keyword"):
        await steps.setup(dev_env.client, s, migrate_db=False)


async def test_on_temporal_cloud_it_says_what_to_add_with_clouds_tools(dev_env) -> None:  # noqa: ANN001
    """Cloud's address, this server's answers: setup adds no attribute through the operator API,
    prints the tcld command naming each missing one, and still syncs the schedule."""
    ns = await fresh_namespace(dev_env.client)
    s = Settings(temporal_address="portflow.a1b2c.tmprl.cloud:7233", temporal_namespace=ns)
    report = await steps.setup(await scoped(dev_env, ns), s, migrate_db=False)
    assert report.missing_on_cloud == list(SEARCH_ATTRIBUTES) and not report.added
    assert report.cloud_command.startswith(f"tcld namespace search-attributes add --namespace {ns} ")
    assert all(f"--sa '{n}={t}'" in report.cloud_command for n, t in SEARCH_ATTRIBUTES.items())
    assert await custom_attributes(dev_env.client, ns) == {}
    assert "created" in report.schedule
    assert steps.on_cloud(Settings(temporal_address="us-east-1.aws.api.temporal.io:7233"))
    assert not steps.on_cloud(Settings(temporal_address="temporal-frontend.temporal.svc.cluster.local:7233"))
