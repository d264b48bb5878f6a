"""One customer's port request: intake, documents, its orders (see workflow.py)."""

from workflows.port_request.workflow import PortRequestWorkflow

__all__ = ["PortRequestWorkflow"]
