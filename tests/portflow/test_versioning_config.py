"""The worker's Worker Deployment configuration, without a server: each workflow's behavior
is declared on purpose (docs/upgrades.md says why), the version comes from the settings, and
a bad name is refused with what to fix. The server side is tests/cli/test_deploy.py."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from pydantic import ValidationError
from temporalio.common import VersioningBehavior
from temporalio.workflow import _Definition

from tests.settings_helpers import use_settings
from worker import WORKFLOWS, deployment_config

# What docs/upgrades.md promises; changing one is a decision, made there first.
CHOSEN = {
    "PortRequestWorkflow": VersioningBehavior.AUTO_UPGRADE,
    "PortOrderWorkflow": VersioningBehavior.AUTO_UPGRADE,
    "ReminderSweepWorkflow": VersioningBehavior.PINNED,
    "SupportCaseWorkflow": VersioningBehavior.AUTO_UPGRADE,
    "ImplementationWorkflow": VersioningBehavior.AUTO_UPGRADE,
    "WebhookDeliveryWorkflow": VersioningBehavior.AUTO_UPGRADE,
}


def test_every_workflow_declares_the_behavior_the_docs_give() -> None:
    declared = {_Definition.must_from_class(w).name: _Definition.must_from_class(w).versioning_behavior
                for w in WORKFLOWS}
    assert declared == CHOSEN


def test_the_worker_is_a_version_of_the_configured_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, WORKER_VERSIONING="true", WORKER_DEPLOYMENT_NAME="portflow-eu", WORKER_BUILD_ID="9f3c2e1")
    config = deployment_config()
    assert config is not None and config.use_worker_versioning
    assert (config.version.deployment_name, config.version.build_id) == ("portflow-eu", "9f3c2e1")
    # no default: the SDK refuses a workflow that declares no behavior, so none is versioned by accident
    assert config.default_versioning_behavior == VersioningBehavior.UNSPECIFIED

    use_settings(monkeypatch, WORKER_BUILD_ID="")
    assert deployment_config().version.build_id == f"portflow-{version('portflow')}"
    assert deployment_config(False) is None
    use_settings(monkeypatch, WORKER_VERSIONING="false")
    assert deployment_config() is None and deployment_config(True) is not None


def test_a_deployment_name_with_a_dot_is_refused_with_what_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="contains a dot.*use letters, digits"):
        use_settings(monkeypatch, WORKER_DEPLOYMENT_NAME="portflow.eu")
