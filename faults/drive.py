"""Ports driven as a PM would, through ``starter.py`` (start, attach, assign every number
up front), and watched
through the workflows' status queries until they end.

Every command may meet a dead worker or a server that is down: the driver reads what the
command said and goes on (a start that was not confirmed is followed, documents it could
not attach are attached again, a refused or failed command is retried a moment later).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.genrequest import request_data
from bench.ports import port_date_ahead
from faults.cluster import ROOT

EXPEDITE = "fault drill: the port date is the next business day"
DOCS = ROOT / "examples" / "documents"
TERMINAL = ("completed", "cancelled", "failed")


@dataclass
class Port:
    index: int
    request_id: str
    file: Path
    numbers: list[str]
    started: float = 0.0
    finished: float | None = None
    status: str = "not started"
    end: dict[str, Any] = field(default_factory=dict)
    commands: int = 0
    retries: int = 0

    @property
    def took(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


def write_request(folder: Path, index: int, *, year: int) -> Port:
    """Port ``index``: two accounts (Lumen, Verizon) of three numbers each, its own number
    blocks, CSR and bill for each, dated the next business day (started with an expedite)."""
    rid = f"PR-{year}-{index + 1:04d}"
    data = request_data(2, 3, first_block=40 + 2 * index, request_id=rid)
    data["customer"] = {"name": f"Fault Drill {index + 1}", "language": "en"}
    data["requested_port_date"] = port_date_ahead(1, datetime.now(UTC).date()).isoformat()
    data["documents"] = [{"kind": kind, "path": str(DOCS / f"lumen-{kind}.pdf"), "account": a}
                         for a in (0, 1) for kind in ("csr", "bill")]
    path = folder / f"request-{index + 1}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    numbers = [f"+1{n.translate(str.maketrans('', '', '() -'))}" for a in data["accounts"] for n in a["numbers"]]
    return Port(index=index, request_id=rid, file=path, numbers=numbers)


async def starter(env: dict[str, str], *args: str, timeout: float = 90.0) -> tuple[int, str]:
    """``python starter.py ARGS`` with the run's settings: (exit code, its output)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "starter.py", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"starter.py {' '.join(args)}: no answer within {timeout:.0f} s"
    return proc.returncode or 0, " ".join(out.decode("utf-8", "replace").split())


class Driver:
    def __init__(self, env: dict[str, str], client: Any, log: list[str]) -> None:
        self.env, self.client, self.log = env, client, log

    async def cmd(self, port: Port, *args: str) -> tuple[int, str]:
        port.commands += 1
        code, out = await starter(self.env, *args)
        self.log.append(f"{time.strftime('%H:%M:%S')} {port.request_id} starter.py {args[0]} -> {code}: {out[-300:]}")
        return code, out

    async def start(self, port: Port) -> None:
        port.started, port.status = time.monotonic(), "starting"
        while True:
            code, out = await self.cmd(port, "start", str(port.file), "--expedite", EXPEDITE)
            if code == 0 or "already started" in out or "started, but" in out:
                break
            port.retries += 1
            await asyncio.sleep(1.0)
        for line in out.split("python starter.py attach ")[1:]:
            args = line.split()[:6]  # ID PATH --kind KIND --order ORDER
            while True:
                code, said = await self.cmd(port, "attach", *args)
                if code == 0 or "already attached" in said:
                    break
                port.retries += 1
                await asyncio.sleep(1.0)

    async def views(self, port: Port) -> tuple[Any, list[Any]] | None:
        from workflows.port_order import PortOrderWorkflow
        from workflows.port_request import PortRequestWorkflow

        try:
            view = await self.client.get_workflow_handle(port.request_id).query(PortRequestWorkflow.status)
            orders = [await self.client.get_workflow_handle(o.order_id).query(PortOrderWorkflow.status)
                      for o in view.orders]
        except Exception:  # noqa: BLE001 - server down, worker dead, order not started: ask again later
            return None
        return view, orders

    async def assign(self, port: Port, deadline: float) -> None:
        """The PM assigns every number up front (allowed from the start): who gets a number
        must not depend on how fast the port went."""
        args = [a for tn in port.numbers for a in ("--tn", tn, "--to", f"user{tn[-4:]}@drill.example")]
        while time.monotonic() < deadline:
            code, out = await self.cmd(port, "assign", port.request_id, *args)
            if code == 0 or "has finished" in out:
                return
            port.retries += 1
            await asyncio.sleep(1.0)

    async def follow(self, port: Port, deadline: float) -> None:
        while time.monotonic() < deadline:
            got = await self.views(port)
            if got is not None:
                view, orders = got
                port.status = view.status.value
                if port.status in TERMINAL:
                    port.finished = time.monotonic()
                    port.end = end_state(view, orders)
                    return
            await asyncio.sleep(1.0)

    async def run(self, port: Port, deadline: float) -> None:
        await self.start(port)
        port.status = "started"
        await self.assign(port, deadline)
        await self.follow(port, deadline)


def end_state(view: Any, orders: list[Any]) -> dict[str, Any]:
    """What must be the same after an undisturbed run and a disturbed one."""
    return {
        "request": view.status.value,
        "orders": {o.order_id: o.status.value for o in orders},
        "numbers": {n.tn: (n.state, n.assigned_to is not None) for o in orders for n in o.numbers},
    }
