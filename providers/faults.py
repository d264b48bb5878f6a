"""Fault drills for the local stand-ins: the carrier simulator and the local e-signature
misbehave on purpose.

The simulator profile's optional top-level ``faults`` (``python -m faults`` writes one), and
``PORTFLOW_ESIGN_LOCAL_FAULTS`` (the same fields as JSON) for the local e-signature::

    faults:
      rate: 0.3                 # share of calls that fail
      seed: 7                   # the n-th call of an operation on an order fails or not by the seed
      kinds: [server_error, timeout, rate_limit]
      timeout_seconds: 3        # how long a "timeout" hangs before the call gives up
      after_effect: 0.5         # share of failures that happen after the carrier did the work
      max_in_a_row: 3           # never more failures in a row for one call and order

A fault is the provider's retryable error (``CarrierError``, ``ESignError``), as a real 503,
429 or read timeout becomes in the adapters: the activity fails and Temporal retries it. An
*after-effect* fault is the nasty one: the carrier recorded the submission (or the envelope
was created) but the answer never arrived, so the retry must find what the first call made
instead of making it again. Each injected fault is appended to the stand-in's
``faults.log`` (``<var_dir>/carrier-sim/``, ``<var_dir>/esign-local/``; one JSON line), which
the fault suite counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


T = TypeVar("T")
_LOCK = threading.Lock()
FaultKind = Literal["server_error", "timeout", "rate_limit"]
MESSAGES = {
    "server_error": "fault drill: 503 Service Unavailable",
    "timeout": "fault drill: no answer within {s:g} s",
    "rate_limit": "fault drill: 429 Too Many Requests (retry later)",
}


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0
    kinds: list[FaultKind] = Field(default_factory=lambda: ["server_error", "timeout", "rate_limit"], min_length=1)
    timeout_seconds: float = Field(default=3.0, ge=0, le=120)
    after_effect: float = Field(default=0.5, ge=0, le=1)
    max_in_a_row: int = Field(default=3, ge=1)


def _roll(seed: int, call: str, n: int, what: str) -> float:
    """A number in [0, 1) fixed by the seed, the call and its count: the same in any process."""
    digest = hashlib.sha256(f"{seed}|{call}|{n}|{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    def __init__(self, faults: Faults | None, log_dir: Path, error: type[Exception]) -> None:
        self.faults = faults
        self.error = error  # the provider's retryable error
        self.log = log_dir / "faults.log"
        self.state = log_dir / "faults"  # calls counted per operation and order

    def _decide(self, call: str) -> tuple[FaultKind, bool] | None:
        """The n-th call of ``call`` fails or not by the seed alone (worker restarts do not
        replay the same failures); never more than ``max_in_a_row`` failures in a row."""
        f = self.faults
        if f is None or f.rate <= 0:
            return None
        path = self.state / (hashlib.sha256(call.encode()).hexdigest()[:24] + ".json")
        with _LOCK:
            try:
                seen = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                seen = {"n": 0, "row": 0}
            n = seen["n"] = seen["n"] + 1
            fail = _roll(f.seed, call, n, "fail") < f.rate and seen["row"] < f.max_in_a_row
            seen["row"] = seen["row"] + 1 if fail else 0
            self.state.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(seen), "utf-8")
            os.replace(tmp, path)
        if not fail:
            return None
        kind = f.kinds[int(_roll(f.seed, call, n, "kind") * len(f.kinds)) % len(f.kinds)]
        return kind, _roll(f.seed, call, n, "after") < f.after_effect

    def _record(self, op: str, key: str, kind: str, after: bool) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"op": op, "key": key, "kind": kind, "after_effect": after, "pid": os.getpid()})
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    async def call(self, op: str, key: str, work: Callable[[], Awaitable[T]], *, has_effect: bool) -> T:
        """``work()``, or a fault before it, or (for calls that change something) after it."""
        decided = self._decide(f"{op}:{key}")
        if decided is None:
            return await work()
        kind, after = decided
        after = after and has_effect
        if after:
            await work()
        self._record(op, key, kind, after)
        if kind == "timeout":
            assert self.faults is not None
            await asyncio.sleep(self.faults.timeout_seconds)
        raise self.error(MESSAGES[kind].format(s=self.faults.timeout_seconds if self.faults else 0))


def parse_faults(text: str, setting: str) -> Faults | None:
    """A drill from a setting's JSON (empty: none); a mistake names the setting and the field."""
    if not text.strip():
        return None
    try:
        return Faults.model_validate_json(text)
    except ValidationError as exc:
        bad = exc.errors()[0]
        where = ".".join(str(p) for p in bad["loc"]) or "value"
        raise ValueError(f"{setting}: {where}: {bad['msg']} (e.g. {{\"rate\": 0.3, \"seed\": 7}})") from None


def count_faults(var_dir: Path) -> list[dict[str, object]]:
    """The faults the stand-ins injected under ``var_dir`` (for the fault suite)."""
    out: list[dict[str, object]] = []
    for stand_in in ("carrier-sim", "esign-local"):
        path = var_dir / stand_in / "faults.log"
        if path.exists():
            out += [{**json.loads(line), "stand_in": stand_in}
                    for line in path.read_text("utf-8").splitlines() if line.strip()]
    return out
