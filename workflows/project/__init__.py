"""The implementation project around a customer's ports (issue 17): ``ImplementationWorkflow``."""

from workflows.project.workflow import ImplementationWorkflow

__all__ = ["ImplementationWorkflow"]
