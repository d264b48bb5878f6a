"""A worker process for the scale-out run: ``python -m bench.scaleworker``, exactly ``worker.py``
(settings from the environment) except that every call reaching the carrier provider is
written, with the time the server started its activity attempt and the time it ran, to ``<var>/carrier-calls/<pid>.log``: what the simulator saw, so
the run can show the calls per second all workers made together."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from temporalio import activity

import activities.carrier as carrier_activities
import worker
from core.settings import get_settings

_real_provider = carrier_activities._provider


class _Counted:
    def __init__(self, inner: Any, log: Any) -> None:
        self._inner, self._log = inner, log

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in ("submit", "supplement", "cancel", "status", "activate") or not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            # when the server handed this attempt to a worker (what the queue's rate limit paces),
            # then when the call reached the simulator here
            started = activity.info().started_time.timestamp()
            self._log.write(f"{started:.6f} {time.time():.6f} {name}\n")
            self._log.flush()
            return await attr(*args, **kwargs)

        return call


def main() -> None:
    folder = get_settings().var_dir / "carrier-calls"
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / f"{os.getpid()}.log").open("a", buffering=1)
    carrier_activities._provider = lambda: _Counted(_real_provider(), log)
    asyncio.run(worker.main())


if __name__ == "__main__":
    main()
