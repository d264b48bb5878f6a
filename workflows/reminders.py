"""The daily reminder sweep, started by the Temporal Schedule in ``portflow.schedules``.

One run: ``plan_reminders`` finds the ports at risk on the sweep's local date (nothing on
a weekend or holiday) and writes the messages; ``send_reminder`` delivers each, once. A
message that cannot be sent does not stop the others; the run fails at the end, naming
them, so the schedule's recent runs in the UI show it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, VersioningBehavior
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.reminders import ReminderPlan, SweepInput, SweepResult
    from models.workflow import NotifyResult
    from workflows.common import act

# Set by the schedule on each workflow it starts: the nominal time of the run.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=1), maximum_attempts=5)
DETAIL_LINES = 40
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2), maximum_attempts=8)


# PINNED: a sweep runs for seconds to minutes and starts afresh every business day, so it
# finishes on the build it started on (no patch is ever needed for it) and the next
# day's sweep starts on the current build; an old build drains of sweeps at once.
@workflow.defn(name="ReminderSweepWorkflow", versioning_behavior=VersioningBehavior.PINNED)
class ReminderSweepWorkflow:
    def __init__(self) -> None:
        self.result: SweepResult | None = None

    @workflow.run
    async def run(self, inp: SweepInput) -> SweepResult:
        at = inp.scheduled_at or workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        plan = await act("plan_reminders", SweepInput(scheduled_at=at), ReminderPlan, retry=PLAN_RETRY,
                         timeout=timedelta(minutes=5), summary=f"find the ports at risk ({at:%Y-%m-%d %H:%M} UTC)")
        result = SweepResult(local_date=plan.local_date, skipped=plan.skipped, findings=len(plan.findings),
                             already_told=plan.already_told)
        self.result = result
        self._details(plan, result)
        for msg in plan.messages:
            try:
                sent = await act("send_reminder", msg, NotifyResult, summary=msg.summary, retry=SEND_RETRY,
                                 timeout=timedelta(minutes=1))
            except ActivityError as err:
                cause = err.cause.message if isinstance(err.cause, ApplicationError) else str(err.cause or err)
                result.failed.append(f"{msg.summary}: {cause}")
            else:
                if sent.channels and sent.duplicates == len(sent.channels):
                    result.duplicates += 1  # a retry of the sweep: delivered before, not again
                else:
                    result.sent.append(msg.summary)
            self._details(plan, result)
        if result.failed:
            raise ApplicationError(
                f"{len(result.failed)} of {len(plan.messages)} reminder(s) not sent: " + "; ".join(result.failed),
                result.model_dump(mode="json"), type="RemindersNotSent", non_retryable=True,
            )
        return result

    @workflow.query
    def status(self) -> SweepResult | None:
        return self.result

    def _details(self, plan: ReminderPlan, result: SweepResult) -> None:
        if plan.skipped:
            workflow.set_current_details(f"**skipped** · {plan.skipped}")
            return
        lines = [
            f"**{plan.local_date}** ({plan.time_zone}) · {len(plan.findings)} finding(s) · "
            f"{len(result.sent)}/{len(plan.messages)} message(s) sent · {plan.already_told} item(s) told earlier today",
        ]
        lines += [f"- {f.rule.value}: {f.line}" for f in plan.findings[:DETAIL_LINES]]
        if len(plan.findings) > DETAIL_LINES:
            lines.append(f"- and {len(plan.findings) - DETAIL_LINES} more (the plan_reminders result lists every one)")
        lines += [f"- not sent: {f}" for f in result.failed]
        workflow.set_current_details("\n".join(lines))
