"""``start``: start a checked request, attach the documents its file names, and say what is
true at the end, whatever happened on the way (issue 12).

- Two requests racing for a number: exactly one claims it at intake; the other ends FAILED
  and the loser is told which numbers are held by which port (not "documents can no longer
  be attached", the refusal of the attach that followed).
- No worker answers, or the worker dies meanwhile: once the workflow exists the port has
  started, and :class:`StartUnconfirmed` says so, with its id, how to follow it and the
  documents still to attach (not "the server refused: Timeout expired").
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from models.request import DocumentKind, PortRequest
from models.workflow import Expedite, PortOptions, RequestView
from portflow.cli.errors import CliError, about, deepest_message
from workflows.port_request import PortRequestWorkflow

Doc = tuple[Path, DocumentKind, str | None]
_NO_ANSWER = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE)


class StartUnconfirmed(Exception):
    """The port started (its workflow exists), but no worker confirmed its first steps in time."""

    def __init__(self, request_id: str, why: str, unattached: list[Doc], view: RequestView | None = None) -> None:
        self.request_id, self.why, self.unattached, self.view = request_id, why, unattached, view
        left = f"; {len(unattached)} document(s) still to attach" if unattached else ""
        super().__init__(f"{request_id} started, but {why}{left}: follow it with "
                         f"`python starter.py status {request_id}`")

    def attach_commands(self) -> list[str]:
        return [f"python starter.py attach {self.request_id} {path} --kind {kind.value}"
                + (f" --order {order}" if order else "") for path, kind, order in self.unattached]


def _no_answer(err: BaseException) -> bool:
    if isinstance(err, TimeoutError | WorkflowUpdateRPCTimeoutOrCancelledError):
        return True
    return isinstance(err, RPCError) and err.status in _NO_ANSWER


async def cmd_start(client: Client, request: PortRequest, *, base_dir: Path, actor: str,
                    expedite: str | None = None, options: PortOptions | None = None,
                    settings: Settings | None = None, wait: float = 20.0, launch: Any = None) -> RequestView:
    """Start a checked request (``portflow.cli.files.plan_start`` prepares it), attach the
    documents its file names, and return its status once intake is done (or after ``wait``).
    ``launch``: who starts the workflow (``portflow.ports.start_port``; a project starts its ports).

    Raises :class:`CliError` when it did not start, :class:`StartUnconfirmed` when it
    started but no worker answered within ``wait``. A request refused at intake (a number
    another port claimed first) returns its FAILED view, whose last reason names them.

    The documents are attached once the workflow has run its first task: an update that
    reaches it in that very task is refused (its validators need the run's input)."""
    from portflow import ports
    from portflow.cli.actions import QUERY_TIMEOUT, running_state

    docs: list[Doc] = []
    for d in request.documents:
        path = Path(d.path) if Path(d.path).is_absolute() else base_dir / d.path
        if not path.is_file():
            raise CliError(f"document {d.path} ({d.kind.value}) not found: fix the path in the request file")
        docs.append((path, d.kind, request.order_id(d.account) if d.account is not None else None))
    exp = Expedite(actor=actor, reason=expedite) if expedite else None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait

    def left() -> float:
        return max(1.0, deadline - loop.time())

    try:
        async with about(request.id):
            handle = await asyncio.wait_for(
                ports.start_port(client, request.model_copy(update={"documents": []}), started_by=actor,
                                 base_dir=base_dir, expedite=exp, options=options, settings=settings,
                                 launch=launch),
                timeout=wait)
    except ports.PortRefused as exc:
        raise CliError(f"not started: {exc}") from None
    except CliError as err:
        if "no worker answered" not in err.message:
            raise
        if await running_state(client, request.id) is None:
            raise CliError(f"{request.id} was not started: the server did not answer within {wait:.0f} s") from None
        raise StartUnconfirmed(request.id, f"the server did not confirm it within {wait:.0f} s", docs) from None

    todo, view = list(docs), None
    try:
        view = await handle.query(PortRequestWorkflow.status, rpc_timeout=timedelta(seconds=left()))
        while todo:
            path, kind, order_id = todo[0]
            view = await asyncio.wait_for(ports.attach(client, request.id, path, kind, actor=actor, order_id=order_id),
                                          timeout=left())
            todo.pop(0)
        # intake (recording the request, claiming its numbers), then the orders starting:
        # show where it settles rather than a stage it leaves a second later
        settle = min(deadline, loop.time() + 5)
        while view.status.value in ("intake", "validated") and loop.time() < settle:
            await asyncio.sleep(0.1)  # a local query: cheap, and the user waits
            view = await handle.query(PortRequestWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except WorkflowUpdateFailedError as err:
        # an attach refused: because the request failed at intake meanwhile (its reason says why)?
        failed = await _failed_view(handle)
        if failed is not None:
            return failed
        raise CliError(f"{request.id} started, but attaching {todo[0][0].name} was refused: {deepest_message(err)}; "
                       f"fix it and attach it with `python starter.py attach {request.id} ...`") from None
    except Exception as err:  # noqa: BLE001 - sorted below: no answer, or a real error
        if not _no_answer(err):
            raise
        raise StartUnconfirmed(request.id, f"no worker answered within {wait:.0f} s (is `python worker.py` "
                                           "running?)", todo, view) from None
    return view


async def _failed_view(handle: Any) -> RequestView | None:
    try:
        view = await handle.query(PortRequestWorkflow.status, rpc_timeout=timedelta(seconds=10))
    except Exception:  # noqa: BLE001 - no better answer: the caller reports the refusal
        return None
    return view if view.status.value == "failed" else None


def report(request: PortRequest, u: StartUnconfirmed) -> None:
    """What ``start`` prints when the port started unconfirmed; exit 1 while documents wait."""
    from rich.text import Text

    from portflow.cli import render
    from portflow.cli.common import done, fail

    out = render.console()
    done(f"started {request.id}: {request.customer.name}, {len(request.all_numbers)} numbers")
    out.print(Text(f"not confirmed yet: {u.why}. The port goes on once a worker runs.", style="yellow"))
    out.print(f"follow it: python starter.py watch {request.id}   ·   python starter.py status {request.id}")
    if u.unattached:
        out.print("then attach what the file names (not attached yet):")
        for line in u.attach_commands():
            out.print(f"  {line}")
        fail(f"{request.id} started, but {len(u.unattached)} document(s) are not attached yet: run the commands above")
