"""The workflow tests' fixtures (a time-skipping server, a fresh var/, a task queue) for the
API tests that drive ports: the customer page's."""

from tests.workflows.conftest import env, executor, port_var, task_queue  # noqa: F401
