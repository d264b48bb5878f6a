"""portflow: number-porting workflows on Temporal. Cross-cutting pieces live here:
settings, the port-date calendar, the offline request check, the CLI commands and the demo."""

TASK_QUEUE = "portflow"
