"""The time local stand-ins (carrier simulator, local e-signature) should see.

Inside an activity it is the server's time for this attempt, so under the time-skipping
test server the simulated carrier answers when the workflow's timers say it should, and
on a real server it is (within a second) the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity


def temporal_now() -> datetime:
    if activity.in_activity():
        return activity.info().current_attempt_scheduled_time.astimezone(UTC)
    return datetime.now(UTC)
