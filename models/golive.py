"""The go-live checklist that gates a port's activation (seed 004, issue 17).

A port may be tied to a checklist: its activation waits until every *required* item is done.
The items are seed 004's (before go-live: UAT passed, UAT on a temporary number, number
cutover planned, toll-free cutover ready, users trained, operations sign-off, production
deployed, the change request approved for a date and time, a rollback plan; on the day: the
status bridge open, post-go-live support ready, live metrics checked). Each is required or
not, per request (``go_live:`` in the request file) and later per project.

Each done item records who, when and a note. Two items carry more than a tick:

- ``change_request``: the window the change board approved (start and end, with its zone),
  which must CONTAIN the activation time; :func:`window_problem` says why it does not.
- ``rollback_plan``: the plan's name (a reference or a URL).

and ``uat_temp_number`` needs a temporary number recorded on the port.

Pure and deterministic (no clock, no I/O, no zone database): the workflows, the CLI and the
offline check share it. Times are aware datetimes; a window keeps the offset it was approved
in, so messages show the board's wall-clock times.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

MAX_REF = 500
MAX_NOTE = 2000
ZONE_PATTERN = r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+){0,2}$|^UTC$"


class OnNotReady(StrEnum):
    """What the port does when the gate is not ready N business days before the FOC."""

    SUP2 = "sup2"  # move the date by a SUP2 (slip_business_days later)
    ESCALATE = "escalate"  # page ops; the port holds at the FOC until the gate is ready


class ItemDef(BaseModel):
    id: str
    title: str
    required: bool = True
    day_of: bool = False  # done on go-live day
    after_cutover: bool = False  # checked after the numbers switch: never gates activation


# The seed's items, in the order a PM works through them.
ITEMS: tuple[ItemDef, ...] = (
    ItemDef(id="uat_passed", title="UAT passed; open issues accepted by the stakeholders"),
    ItemDef(id="uat_temp_number", title="UAT scripts run on a temporary number"),
    ItemDef(id="cutover_planned", title="number cutover planned; porting ticket filed well before the date"),
    ItemDef(id="toll_free_cutover", title="toll-free cutover ready (RespOrg / TFNS transfer)"),
    ItemDef(id="users_trained", title="end users trained on the new platform"),
    ItemDef(id="ops_signoff", title="operations signed off and ready for tickets"),
    ItemDef(id="production_deployed", title="production deployed"),
    ItemDef(id="change_request", title="change request approved by the change board for a date and time"),
    ItemDef(id="rollback_plan", title="rollback plan named"),
    ItemDef(id="status_bridge", title="status bridge open", day_of=True),
    ItemDef(id="support_ready", title="post-go-live support ready", day_of=True),
    ItemDef(id="live_metrics", title="live metrics checked (calls handled, abandonment, queue depth)",
            required=False, day_of=True, after_cutover=True),
)
ITEM_IDS: tuple[str, ...] = tuple(i.id for i in ITEMS)
SPECIAL = {"change_request": "gate change-window", "rollback_plan": "gate rollback"}


def item_def(item_id: str) -> ItemDef:
    for d in ITEMS:
        if d.id == item_id:
            return d
    raise ValueError(unknown_item(item_id))


def unknown_item(item_id: str) -> str:
    import difflib

    close = difflib.get_close_matches(str(item_id)[:60], ITEM_IDS, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown go-live item '{str(item_id)[:60]}': {hint}items are {', '.join(ITEM_IDS)}"


def _ids(value: object) -> object:
    """A list of item ids, or one comma-separated string (a CSV cell)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


ItemIds = Annotated[list[str], BeforeValidator(_ids)]


class Done(BaseModel):
    by: str = Field(min_length=1, max_length=254)
    at: datetime
    note: str = Field(default="", max_length=MAX_NOTE)


class ChangeWindow(BaseModel):
    """What the change board approved: the cutover may happen from ``start`` to ``end``."""

    start: datetime
    end: datetime
    tz: str = Field(max_length=64, pattern=ZONE_PATTERN, description="the zone the board approved it in")
    approved_by: str = Field(min_length=1, max_length=254, description="who approved: the board, a name, a CR id")
    reference: str = Field(default="", max_length=MAX_REF, description="the change request's id or URL")

    @model_validator(mode="before")
    @classmethod
    def _localize(cls, data: object) -> object:
        """Wall-clock times as a request file or the CLI gives them (``2027-01-15 18:00``)
        are in ``tz``. Payloads between workflows are aware already: no zone lookup there."""
        if not isinstance(data, dict) or not isinstance(data.get("tz"), str):
            return data
        out = dict(data)
        for key in ("start", "end"):
            value = out.get(key)
            if isinstance(value, str) and len(value) <= 40:
                try:
                    value = datetime.fromisoformat(value.strip())
                except ValueError:
                    continue  # pydantic's own error names the field
            if isinstance(value, datetime) and value.tzinfo is None:
                from core.calendar import zone

                try:
                    out[key] = value.replace(tzinfo=zone(out["tz"]))
                except ValueError as exc:
                    raise ValueError(f"tz: {exc}") from None
        return out

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("needs its time zone: give --tz (e.g. America/Denver)")
        return v

    @model_validator(mode="after")
    def _order(self) -> ChangeWindow:
        if self.end <= self.start:
            raise ValueError(f"the change window ends ({self.end:%Y-%m-%d %H:%M}) before it starts "
                             f"({self.start:%Y-%m-%d %H:%M}): check --from and --to")
        if self.end - self.start > timedelta(days=7):
            raise ValueError("a change window longer than 7 days is not a window: give the hours the board approved")
        return self

    def local(self, at: datetime) -> datetime:
        """``at`` on the board's clock (the offset the window was approved in)."""
        return at.astimezone(self.start.tzinfo)

    def text(self) -> str:
        s, e = self.start, self.end.astimezone(self.start.tzinfo)
        end = f"{e:%H:%M}" if e.date() == s.date() else f"{e:%Y-%m-%d %H:%M}"
        return f"{s:%Y-%m-%d %H:%M}-{end} {self.tz}"


def window_problem(window: ChangeWindow, activation_at: datetime) -> str | None:
    """Why ``window`` does not contain the activation instant, with what to ask for; None when it does."""
    act = window.local(activation_at)
    when = f"{act:%H:%M}" if act.date() == window.start.date() else f"{act:%Y-%m-%d %H:%M}"
    ask = f"ask the change board for a window that contains {act:%Y-%m-%d %H:%M} {window.tz}, or move the port date"
    if activation_at > window.end:
        return f"the change window {window.text()} ends before activation at {when}; {ask}"
    if activation_at < window.start:
        return f"the change window {window.text()} starts after activation at {when}; {ask}"
    return None


class GoLiveSection(BaseModel):
    """The ``go_live:`` section of a request file: which items gate the port, what happens
    when it is not ready in time, and what is known already (window, rollback plan)."""

    required: ItemIds = Field(default_factory=list, description="items to require beyond the defaults")
    optional: ItemIds = Field(default_factory=list, description="default items this port does not require")
    on_not_ready: OnNotReady = OnNotReady.SUP2
    warn_business_days: int | None = Field(default=None, ge=1, le=20,
                                           description="warn this many business days before the FOC; "
                                           "none: PORTFLOW_GATE_WARN_BUSINESS_DAYS")
    slip_business_days: int = Field(default=5, ge=1, le=60, description="how far a SUP2 moves the date")
    change_window: ChangeWindow | None = None
    rollback_plan: str | None = Field(default=None, min_length=3, max_length=MAX_REF)

    @model_validator(mode="after")
    def _items(self) -> GoLiveSection:
        for name in ("required", "optional"):
            for item in getattr(self, name):
                if item not in ITEM_IDS:
                    raise ValueError(f"{name}: {unknown_item(item)}")
        both = sorted(set(self.required) & set(self.optional))
        if both:
            raise ValueError(f"{', '.join(both)} listed as both required and optional: keep one")
        after = [i for i in self.required if item_def(i).after_cutover]
        if after:
            raise ValueError(f"{', '.join(after)} is checked after the cutover, so it cannot gate the activation: "
                             "leave it out of required")
        return self

    def checklist(self, *, toll_free: bool, warn_default: int, by: str, at: datetime) -> GoLiveChecklist:
        """The checklist state a port starts with (``toll_free``: the port moves toll-free numbers)."""
        items = []
        for d in ITEMS:
            required = d.required and (d.id != "toll_free_cutover" or toll_free)
            required = (required or d.id in self.required) and d.id not in self.optional
            items.append(GateItem(id=d.id, title=d.title, required=required, day_of=d.day_of))
        gate = GoLiveChecklist(items=items, on_not_ready=self.on_not_ready,
                               warn_business_days=self.warn_business_days or warn_default,
                               slip_business_days=self.slip_business_days)
        if self.change_window is not None:
            gate = gate.with_window(self.change_window, by=by, at=at)
        if self.rollback_plan is not None:
            gate = gate.with_rollback(self.rollback_plan, by=by, at=at)
        return gate


class GateItem(BaseModel):
    id: str
    title: str
    required: bool = True
    day_of: bool = False
    done: Done | None = None


class GoLiveChecklist(BaseModel):
    """A port's checklist and its state: what is done, by whom, when; the window; the plan."""

    items: list[GateItem]
    on_not_ready: OnNotReady = OnNotReady.SUP2
    warn_business_days: int = Field(default=2, ge=1, le=20)
    slip_business_days: int = Field(default=5, ge=1, le=60)
    change_window: ChangeWindow | None = None
    rollback_plan: str | None = None

    def item(self, item_id: str) -> GateItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise ValueError(unknown_item(item_id))

    def open_items(self) -> list[GateItem]:
        return [i for i in self.items if i.required and i.done is None]

    def problems(self, activation_at: datetime | None, temp_numbers: list[str]) -> list[str]:
        """Why the port may not activate at ``activation_at``: empty when the gate is ready."""
        out = [f"{i.id} not done ({i.title})" for i in self.open_items()]
        if self.item("change_request").required and self.change_window is not None and activation_at is not None:
            problem = window_problem(self.change_window, activation_at)
            if problem:
                out.append(problem)
        uat = self.item("uat_temp_number")
        if uat.required and uat.done is not None and not temp_numbers:
            out.append("uat_temp_number: no temporary number recorded (starter.py temp-numbers add)")
        return out

    def done_problem(self, item_id: str, temp_numbers: list[str]) -> str | None:
        """Why ``gate done`` may not tick ``item_id``; None when it may."""
        if item_id not in ITEM_IDS:
            return unknown_item(item_id)
        if item_id in SPECIAL:
            return f"{item_id} is recorded with `starter.py {SPECIAL[item_id]}`, which says what was approved"
        item = self.item(item_id)
        if item.done is not None:
            return f"{item_id} is already done (by {item.done.by} at {item.done.at:%Y-%m-%d %H:%M} UTC)"
        if item_id == "uat_temp_number" and not temp_numbers:
            return ("UAT on a temporary number needs the temporary number: record it first with "
                    "`starter.py temp-numbers add REQ +1...`")
        return None

    def with_done(self, item_id: str, *, by: str, at: datetime, note: str = "") -> GoLiveChecklist:
        items = [i.model_copy(update={"done": Done(by=by, at=at, note=note)}) if i.id == item_id else i
                 for i in self.items]
        return self.model_copy(update={"items": items})

    def with_window(self, window: ChangeWindow, *, by: str, at: datetime) -> GoLiveChecklist:
        note = f"{window.text()} approved by {window.approved_by}" + (f" ({window.reference})" if window.reference else "")
        return self.model_copy(update={"change_window": window}).with_done("change_request", by=by, at=at, note=note)

    def with_rollback(self, plan: str, *, by: str, at: datetime) -> GoLiveChecklist:
        return self.model_copy(update={"rollback_plan": plan}).with_done("rollback_plan", by=by, at=at, note=plan)

    def summary(self) -> str:
        req = [i for i in self.items if i.required]
        done = [i for i in req if i.done is not None]
        return f"{len(done)}/{len(req)} required items done"


class GateDone(BaseModel):
    """The update ``gate done``: one item done, by whom, with a note."""

    actor: str = Field(min_length=1, max_length=254)
    item: str = Field(min_length=1, max_length=60)
    note: str = Field(default="", max_length=MAX_NOTE)


class GateWindow(BaseModel):
    """The update ``gate change-window``."""

    actor: str = Field(min_length=1, max_length=254)
    window: ChangeWindow


class GateRollback(BaseModel):
    """The update ``gate rollback``."""

    actor: str = Field(min_length=1, max_length=254)
    plan: str = Field(min_length=3, max_length=MAX_REF)


class TempNumbers(BaseModel):
    """The update ``temp-numbers add``: E.164 numbers the customer forwards calls to."""

    actor: str = Field(min_length=1, max_length=254)
    numbers: list[str] = Field(min_length=1, max_length=50)


class GateSignal(BaseModel):
    """What a request tells its orders when the gate changes: the checklist and the temporary numbers."""

    gate: GoLiveChecklist
    temp_numbers: list[str] = Field(default_factory=list)
    actor: str = "system"
    what: str = Field(default="", description="what changed, for the order's timeline")


class GatePlanInput(BaseModel):
    foc_at: datetime
    time_zone: str
    warn_business_days: int
    slip_business_days: int
    guard_hours: int = Field(default=0, description="warn before the FOC guard starts, so a SUP2 is still allowed")


class GatePlan(BaseModel):
    foc_at: datetime
    warn_at: datetime = Field(description="09:00 local, warn_business_days business days before the FOC, or "
                              "earlier business days while that is inside the FOC guard")
    slip_date: date = Field(description="the port date a SUP2 asks for")
