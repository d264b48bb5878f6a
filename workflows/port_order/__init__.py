"""One losing carrier account's port, a stage per module (see workflow.py for the lifecycle)."""

from workflows.port_order.workflow import PortOrderWorkflow

__all__ = ["PortOrderWorkflow"]
