"""How the carrier simulator behaves, per carrier: the profile.

A profile is YAML (``settings.simulator_profile``; without one the built-in
:data:`DEFAULT_PROFILE` below applies)::

    carriers:
      "*":                          # every carrier not named below
        behaviour: accept
        answer_after_seconds: 30
      "Acme Telecom":               # matched case-insensitively
        - number_prefix: "+1415555" # optional: only orders with a number starting so
          behaviour: reject
          code: BTN_ATN_MISMATCH
          first_submission_only: true
        - behaviour: accept         # the rest of Acme's orders
          fast_port: true

The first rule of the carrier that matches wins, then the first matching ``"*"`` rule,
then plain ``accept``. An order keeps the behaviour it was submitted with, so editing the
profile never changes orders already in flight.

Behaviours (what the carrier does ``answer_after_seconds`` after each (re)submission):

- ``accept``: FOC confirmed for the requested date at the activation time (or
  ``foc_in_seconds`` after the submission, for demos); the numbers port at the FOC.
- ``reject``: exception ``code`` (a Telnyx code) with ``text``. With
  ``first_submission_only`` (default) a supplement that corrects what the code's
  remediation asks for is accepted; otherwise the carrier rejects every time.
- ``split``: PORTING_ORDER_SPLIT_REQUIRED for ``numbers`` (default: the second half);
  accepted once they are removed (SUP3 ``remove_numbers``).
- ``not_portable``: PHONE_NUMBER_NOT_PORTABLE (or ``code: RATE_CENTER_NOT_PORTABLE``) for
  ``numbers`` (default: the last number); the rest go on once they are removed.
- ``foc_moved``: FOC confirmed, then moved by ``move_by_seconds`` ``move_after_seconds``
  later.
- ``foc_expired``: FOC confirmed, then FOC_EXPIRED at the FOC; a SUP2 with a new date
  gets a new FOC.
- ``silent``: never answers (the workflow's silence reminder fires).
- ``activation_failure``: activation fails for every number.
- ``partial``: activation succeeds except for ``numbers`` (default: the last number).

``fast_port: true`` makes an order eligible for on-demand activation inside a window of
``activation_window_seconds`` from the FOC; without ``activate()`` it ports at the end of
the window. ``guard_hours`` overrides ``settings.foc_guard_hours`` for that carrier.
``first_submission_only`` also limits ``foc_moved``, ``foc_expired``,
``activation_failure`` and ``partial`` to the first FOC: after a SUP2 the port goes well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.numbers import NumberProblem, parse_tn
from providers.faults import Faults
from providers.carrier.submission import config_error

Kind = Literal[
    "accept",
    "reject",
    "split",
    "not_portable",
    "foc_moved",
    "foc_expired",
    "silent",
    "activation_failure",
    "partial",
]

DEFAULT_PROFILE = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 30
"""


class Behaviour(BaseModel):
    """One profile rule: when it applies and what the simulated carrier does."""

    model_config = ConfigDict(extra="forbid")

    behaviour: Kind = "accept"
    number_prefix: str | None = Field(
        default=None, description="applies when an order number starts with it"
    )
    answer_after_seconds: float = Field(
        default=30, ge=0, description="delay until the carrier answers a (re)submission"
    )
    foc_in_seconds: float | None = Field(
        default=None, gt=0, description="demo: FOC this long after the submission"
    )
    code: str | None = Field(default=None, description="reject / not_portable: the exception code")
    text: str = Field(default="", description="the carrier's own words for the exception")
    first_submission_only: bool = True
    numbers: list[str] = Field(
        default_factory=list, description="numbers concerned (split, not_portable, partial)"
    )
    move_after_seconds: float = Field(default=30, ge=0)
    move_by_seconds: float = Field(default=86400)
    fast_port: bool = False
    activation_window_seconds: float = Field(default=14 * 3600, gt=0)
    activation_seconds: float = Field(
        default=0, ge=0, description="how long numbers stay 'activating'"
    )
    cancel_after_seconds: float = Field(
        default=5, ge=0, description="cancel-pending before cancelled"
    )
    guard_hours: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _needs_code(self) -> Behaviour:
        if self.behaviour == "reject" and not self.code:
            raise ValueError(
                "behaviour reject needs a code (a Telnyx exception code such as BTN_ATN_MISMATCH)"
            )
        if self.code and self.behaviour not in ("reject", "not_portable"):
            raise ValueError(
                f"code is only used by reject and not_portable, not by {self.behaviour}"
            )
        if self.behaviour == "not_portable" and self.code not in (
            None,
            "PHONE_NUMBER_NOT_PORTABLE",
            "RATE_CENTER_NOT_PORTABLE",
        ):
            raise ValueError(
                "not_portable takes code PHONE_NUMBER_NOT_PORTABLE or RATE_CENTER_NOT_PORTABLE"
            )
        if self.foc_in_seconds is not None and self.foc_in_seconds <= self.answer_after_seconds:
            raise ValueError(
                f"foc_in_seconds ({self.foc_in_seconds:g}) must be later than answer_after_seconds "
                f"({self.answer_after_seconds:g}): the FOC comes after the carrier answers"
            )
        try:
            self.numbers = [parse_tn(n) for n in self.numbers]
        except NumberProblem as exc:
            raise ValueError(f"numbers: {exc.message}") from None
        return self

    def matches(self, numbers: list[str]) -> bool:
        return self.number_prefix is None or any(n.startswith(self.number_prefix) for n in numbers)


class Profile(BaseModel):
    """Rules by carrier name (casefolded); ``"*"`` is the fallback; ``faults`` for drills
    (``providers/faults.py``)."""

    carriers: dict[str, list[Behaviour]] = Field(default_factory=dict)
    faults: Faults | None = None

    def behaviour_for(self, carrier: str, numbers: list[str]) -> Behaviour:
        for name in (carrier.strip().casefold(), "*"):
            for rule in self.carriers.get(name, []):
                if rule.matches(numbers):
                    return rule
        return Behaviour()


def parse_profile(data: Any, source: str = "profile") -> Profile:
    """Build a profile from parsed YAML; every mistake names the carrier and the rule."""
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"carriers", "faults"}:
        raise config_error(f"simulator {source}: expected a mapping with the keys carriers (and faults)")
    try:
        faults = Faults.model_validate(data["faults"]) if data.get("faults") is not None else None
    except ValidationError as exc:
        bad = exc.errors()[0]
        where = ".".join(str(p) for p in bad["loc"]) or "faults"
        raise config_error(f"simulator {source}: faults: {where}: {bad['msg']}") from None
    carriers = data.get("carriers") or {}
    if not isinstance(carriers, dict):
        raise config_error(f"simulator {source}: carriers must map carrier names to rules")
    out: dict[str, list[Behaviour]] = {}
    for name, rules in carriers.items():
        rules = rules if isinstance(rules, list) else [rules]
        parsed = []
        for i, rule in enumerate(rules, 1):
            try:
                parsed.append(Behaviour.model_validate(rule or {}))
            except ValidationError as exc:
                bad = exc.errors()[0]
                where = ".".join(str(p) for p in bad["loc"]) or "rule"
                raise config_error(
                    f"simulator {source}: carrier {name!r}, rule {i}: {where}: {bad['msg']}"
                ) from None
        key = str(name).strip().casefold()
        out.setdefault(key, []).extend(parsed)
    return Profile(carriers=out, faults=faults)


def load_profile(path: str | Path | None) -> Profile:
    """The profile at ``path``, or the built-in default when no path is set."""
    if not path:
        return parse_profile(yaml.safe_load(DEFAULT_PROFILE), "default profile")
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise config_error(
            f"simulator profile {p}: cannot read it ({exc.strerror}): fix PORTFLOW_SIMULATOR_PROFILE"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise config_error(f"simulator profile {p} is not valid YAML: {exc}") from None
    return parse_profile(data, f"profile {p}")
