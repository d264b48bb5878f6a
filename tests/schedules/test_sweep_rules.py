"""The sweep's day and its queries, on a fixed clock and without a server.

The schedule fires Monday to Friday at 09:00 New York time; the activity decides in the
reminder time zone whether the day is a business day (holidays come from the porting
calendar, which a calendar spec cannot know) and which instants the rules compare with.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment

from activities.reminders import build_queries, cutoffs, mark_key, plan_reminders, sweep_day
from core.calendar import PortCalendar
from core.settings import Settings, reset_settings
from models.reminders import Rule, SweepInput
from tests.settings_helpers import use_settings

NY = "America/New_York"


def settings(**kw: object) -> Settings:
    return Settings(reminder_time_zone=kw.pop("tz", NY), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("at", "why"),
    [
        (datetime(2026, 3, 21, 13, 0, tzinfo=UTC), "Saturday"),
        (datetime(2026, 3, 22, 13, 0, tzinfo=UTC), "Sunday"),
        (datetime(2026, 11, 26, 14, 0, tzinfo=UTC), "Thanksgiving Day"),  # a Thursday the schedule fires on
        (datetime(2026, 7, 3, 13, 0, tzinfo=UTC), "Independence Day (observed)"),  # Friday
        # Monday 00:30 UTC is still Sunday evening in New York
        (datetime(2026, 3, 23, 0, 30, tzinfo=UTC), "Sunday"),
    ],
)
async def test_the_activity_sends_nothing_on_a_weekend_or_holiday(
    monkeypatch: pytest.MonkeyPatch, at: datetime, why: str
) -> None:
    use_settings(monkeypatch, REMINDER_TIME_ZONE=NY, PORTING_HOLIDAYS="[]")
    try:
        # no client in this environment: a skipped day must not look at any port
        plan = await ActivityEnvironment().run(plan_reminders, SweepInput(scheduled_at=at))
    finally:
        reset_settings()
    day = at.astimezone(ZoneInfo(NY)).date()
    assert plan.local_date == day and plan.time_zone == NY
    assert plan.skipped == f"{day} is not a business day in {NY} ({why}): no reminders"
    assert plan.queries == {} and plan.messages == [] and plan.findings == []


def test_a_porting_holiday_from_the_settings_is_skipped_too() -> None:
    s = settings(porting_holidays=[date(2026, 12, 24)])
    sd = sweep_day(datetime(2026, 12, 24, 14, 0, tzinfo=UTC), s, PortCalendar.from_settings(s))
    assert sd.skipped == f"2026-12-24 is not a business day in {NY} (porting holiday): no reminders"


def test_the_local_date_decides_not_utc() -> None:
    cal = PortCalendar()
    # Saturday 02:00 UTC is Friday 22:00 in New York: a business day there, Friday's reminders
    sd = sweep_day(datetime(2026, 3, 21, 2, 0, tzinfo=UTC), settings(), cal)
    assert sd.day == date(2026, 3, 20) and sd.skipped is None
    # the same instant in Tokyo is Saturday 11:00
    sd = sweep_day(datetime(2026, 3, 21, 2, 0, tzinfo=UTC), settings(tz="Asia/Tokyo"), cal)
    assert sd.day == date(2026, 3, 21) and "Saturday" in (sd.skipped or "")


def test_the_four_queries_of_a_wednesday() -> None:
    s = settings()
    cal = PortCalendar.from_settings(s)
    sd = sweep_day(datetime(2026, 3, 18, 13, 0, tzinfo=UTC), s, cal)  # 09:00 EDT
    assert build_queries(cutoffs(sd, s, cal)) == {
        # port date at most 21 + 7 days away (2026-04-15)
        Rule.DOCUMENTS_MISSING: "WorkflowType = 'PortRequestWorkflow' AND ExecutionStatus = 'Running' "
        "AND PortStatus = 'documents' AND PortDate < '2026-04-16T00:00:00Z'",
        # sent 3 days (72 h) before the sweep or earlier
        Rule.LOA_UNSIGNED: "WorkflowType = 'PortOrderWorkflow' AND ExecutionStatus = 'Running' "
        "AND PortStatus = 'loa_sent' AND StageSince < '2026-03-15T13:00:00Z'",
        # submitted before Monday 00:00 New York: Mon, Tue, Wed are 3 business days after
        Rule.NO_FOC: "WorkflowType = 'PortOrderWorkflow' AND ExecutionStatus = 'Running' "
        "AND PortStatus IN ('submitted', 'carrier_pending', 'supplement') AND StageSince < '2026-03-16T04:00:00Z'",
        # port date on or before Monday 23 March, 3 business days away
        Rule.NUMBERS_UNASSIGNED: "WorkflowType = 'PortOrderWorkflow' AND ExecutionStatus = 'Running' "
        "AND NumbersUnassigned > 0 AND PortDate < '2026-03-24T00:00:00Z'",
    }


def test_business_days_skip_the_weekend_and_holidays() -> None:
    s = settings(reminder_no_foc_business_days=3, reminder_unassigned_business_days=3)
    cal = PortCalendar.from_settings(s)
    # Tuesday after Memorial Day (Monday 25 May): the business days before are Fri 22, Thu 21,
    # Wed 20; a stage entered Wednesday has lasted Thu, Fri, Tue = 3 business days
    sd = sweep_day(datetime(2026, 5, 26, 13, 0, tzinfo=UTC), s, cal)
    queries = build_queries(cutoffs(sd, s, cal))
    assert queries[Rule.NO_FOC].endswith("StageSince < '2026-05-21T04:00:00Z'")  # Thursday 00:00 EDT
    assert cal.business_days_between(date(2026, 5, 20), sd.day) == 3
    assert cal.business_days_between(date(2026, 5, 21), sd.day) == 2
    # port dates up to Friday 29 May: Wed, Thu, Fri
    assert queries[Rule.NUMBERS_UNASSIGNED].endswith("PortDate < '2026-05-30T00:00:00Z'")


def test_the_settings_move_the_thresholds() -> None:
    s = settings(lead_time_days=14, reminder_documents_margin_days=0, reminder_loa_unsigned_days=1,
                 reminder_unassigned_business_days=1)
    cal = PortCalendar.from_settings(s)
    sd = sweep_day(datetime(2026, 3, 20, 13, 0, tzinfo=UTC), s, cal)  # Friday
    queries = build_queries(cutoffs(sd, s, cal))
    assert queries[Rule.DOCUMENTS_MISSING].endswith("PortDate < '2026-04-04T00:00:00Z'")
    assert queries[Rule.LOA_UNSIGNED].endswith("StageSince < '2026-03-19T13:00:00Z'")
    assert queries[Rule.NUMBERS_UNASSIGNED].endswith("PortDate < '2026-03-24T00:00:00Z'")  # Monday 23


def test_settings_refuse_a_zone_or_a_time_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="PORTFLOW_REMINDER_TIME_ZONE: unknown time zone 'America/Gotham'"):
        Settings(reminder_time_zone="America/Gotham")
    with pytest.raises(ValueError, match="must be a local time such as 09:00"):
        Settings(reminder_time="09:00:00+02:00")  # type: ignore[arg-type]


def test_a_mark_names_day_rule_port_and_recipient_and_fits_the_ledger() -> None:
    assert mark_key(date(2026, 3, 18), Rule.LOA_UNSIGNED, "PR-2026-0042-1", "Lee@Acme.example") == (
        "reminder:2026-03-18:loa_unsigned:PR-2026-0042-1:lee@acme.example")
    long = mark_key(date(2026, 3, 18), Rule.NO_FOC, "PR-2026-0042-1", "x" * 300 + "@example.com")
    assert len(long) == 255 and long.startswith("reminder:2026-03-18:no_foc:PR-2026-0042-1:xxx")
    assert json.dumps(long)  # plain text, as the ledger stores it
