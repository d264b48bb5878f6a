"""SupportCaseWorkflow: one support case after go-live (seed 003), from open to closed."""

from workflows.support_case.workflow import SupportCaseWorkflow

__all__ = ["SupportCaseWorkflow"]
