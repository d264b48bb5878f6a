"""The activity side of Temporal's pattern for infrequent polling.

A poll activity asks once and raises :func:`not_yet` when nothing changed; the workflow's
retry policy repeats it at the poll interval, and the server writes no history for the
attempts in between. The first attempt, which starts the moment the workflow schedules the
poll (right after it heard from the system it watches), asks nothing: the first look comes
one interval later, as with a timer.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory


def not_yet(message: str) -> ApplicationError:
    """A benign, retryable failure: logged quietly, retried at the poll interval."""
    return ApplicationError(message, type="NotYet", category=ApplicationErrorCategory.BENIGN)


def first_look_after_one_interval() -> None:
    if activity.info().attempt == 1:
        raise not_yet("the first look comes one poll interval from now")
