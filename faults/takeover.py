"""``python -m faults.takeover``: how long a killed worker's activity waits before another
worker runs it (issue 12: ~60 s, the flat start-to-close timeout, before core/limits.py).

One port on a dev server; the simulated carrier hangs on the first submission of each order
(a 60 s "timeout" fault), the worker is SIGKILLed 2 s into it and a new one is started at
once. Printed: seconds from the kill until the order's submission is done by the new worker.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from devtools.servers import free_ports
from faults.__main__ import make_current, make_run, quiet_client
from faults.drive import Driver, write_request

HANG = "faults: {rate: 1.0, seed: 1, kinds: [timeout], timeout_seconds: 60, after_effect: 0, max_in_a_row: 1}\n"


async def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="portflow-takeover-"))
    run = make_run("takeover", scratch / "run", free_ports(1)[0], foc=15, faults=HANG)
    port = write_request(run.folder, 0, year=2026)
    try:
        await run.server.start()
        run.worker.start()
        client = await quiet_client(run.server.address, run.env)
        await make_current(client, run)
        driver = Driver(run.env, client, run.log)
        await driver.start(port)
        hung = run.var / "carrier-sim" / "faults.log"
        deadline = time.monotonic() + 90
        while not hung.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if not hung.exists():
            print("takeover: no submission reached the carrier within 90 s", file=sys.stderr)
            return 1
        await asyncio.sleep(2.0)
        run.worker.kill()
        killed = time.monotonic()
        run.worker.start()
        while time.monotonic() < deadline:
            got = await driver.views(port)
            if got is not None and all(o.carrier_order_id for o in got[1]) and len(got[1]) == 2:
                took = time.monotonic() - killed
                print(f"takeover: the killed worker's carrier_submit ran again and finished {took:.1f} s after "
                      "the SIGKILL (the 60 s start-to-close would have held it ~60 s)")
                return 0
            await asyncio.sleep(0.2)
        print("takeover: the submission did not finish within 90 s of the kill", file=sys.stderr)
        return 1
    finally:
        run.worker.stop()
        run.server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
