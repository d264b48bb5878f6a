"""What the port-steering commands tell a person when something goes wrong.

Temporal answers in its own terms (``WorkflowUpdateFailedError``, ``RPCError NOT_FOUND``,
``Failed client connect``). The commands turn each into one line that says what to fix,
and an exit code: 1 for a refusal the person can fix (a validator said no, an unknown id),
2 when the server cannot be reached at all.

Light at import (``CliError`` and the id parsing serve ``--help``-time code): the Temporal
error types are imported by the functions that look at them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.text import shorten

EXIT_REFUSED, EXIT_UNREACHABLE = 1, 2
_ID = re.compile(r"^(PR-\d{4}-\d{4,})(?:-(\d+))?$")


class CliError(Exception):
    """A refusal or failure to print as one line, with the exit code to leave with."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def parse_id(text: str) -> tuple[str, str | None]:
    """``PR-2026-0042`` -> (request id, None); ``PR-2026-0042-1`` -> (request id, order id)."""
    value = text.strip().upper()
    m = _ID.match(value)
    if not m:
        raise CliError(f"'{shorten(text, 40)}' is not a port id: request ids look like PR-2026-0042, order ids like "
                       "PR-2026-0042-1 (see `python starter.py list`)")
    return m[1], (value if m[2] else None)


def order_id_of(text: str) -> str:
    """An order id, or a clear refusal when ``text`` is a request id."""
    request_id, order_id = parse_id(text)
    if order_id is None:
        raise CliError(f"{request_id} is a request; this command works on one of its orders, such as "
                       f"{request_id}-1 (see `python starter.py status {request_id}`)")
    return order_id


# What the transport's error text (tonic, hyper, the OS) means, in a person's words.
_REASONS = (
    (("connection refused", "connectionrefused"), "nothing listens there"),
    (("dns error", "failed to lookup", "name or service not known", "nodename nor servname"),
     "the host name is not known"),
    (("timed out", "timeout", "no answer within"), "no answer"),
    (("tls", "certificate", "handshake"), "the TLS handshake failed: check PORTFLOW_TEMPORAL_TLS and its certificates"),
    (("network is unreachable", "no route to host", "host unreachable"), "the network cannot reach that host"),
    (("connection reset", "broken pipe", "unavailable"), "the connection was dropped"),
)


def transport_reason(detail: str) -> str:
    """A short reason for a connection failure, without the transport's internals."""
    text = str(detail).lower()
    for needles, reason in _REASONS:
        if any(n in text for n in needles):
            return reason
    return "the connection failed"


def unreachable_message(detail: str = "") -> str:
    from core.settings import get_settings

    s = get_settings()
    why = f" ({transport_reason(detail)})" if detail else ""
    return (f"cannot reach the Temporal server at {s.temporal_address}{why}: check that it runs there (start "
            "one with `make demo` or `temporal server start-dev`), or point PORTFLOW_TEMPORAL_ADDRESS at yours")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def deepest_message(err: BaseException) -> str:
    """The innermost failure message: a validator's ValueError, an activity's refusal."""
    from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
    from temporalio.exceptions import FailureError

    message = str(err)
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, FailureError) and cur.message:
            message = cur.message
        elif not isinstance(cur, (WorkflowUpdateFailedError, WorkflowFailureError)) and str(cur):
            message = str(cur)
        nxt = getattr(cur, "cause", None) or cur.__cause__
        cur = nxt if isinstance(nxt, BaseException) else None
    return message


def translate(err: BaseException, target: str) -> CliError:
    """The one-line message for a Temporal error met while working on ``target``."""
    import asyncio

    from temporalio.client import (
        WorkflowQueryFailedError,
        WorkflowQueryRejectedError,
        WorkflowUpdateFailedError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    )
    from temporalio.service import RPCError, RPCStatusCode

    from core.payload_keys import PayloadKeyError
    from portflow.codec import PayloadKeyMissing, PayloadUndecryptable

    if isinstance(err, CliError):
        return err
    if isinstance(err, PayloadKeyError | PayloadKeyMissing | PayloadUndecryptable):
        # the key ring: a bad PORTFLOW_PAYLOAD_KEYS, or a payload under a key it does not list
        return CliError(f"{target}: {err}")
    if isinstance(err, WorkflowUpdateFailedError):
        return CliError(f"{target}: refused: {deepest_message(err)}")
    if isinstance(err, WorkflowQueryRejectedError):
        return CliError(f"{target}: the query was rejected ({err.status}): the workflow is not running")
    if isinstance(err, WorkflowQueryFailedError):
        return CliError(f"{target}: the status query failed: {_short(str(err))}")
    if isinstance(err, WorkflowUpdateRPCTimeoutOrCancelledError | asyncio.TimeoutError):
        return CliError(f"{target}: no worker answered in time: is the worker running? "
                        "(`python worker.py`, or `make demo`)")
    if isinstance(err, RPCError):
        text = str(err)
        if err.status == RPCStatusCode.NOT_FOUND and "already completed" in text:
            return CliError(f"{target} has finished: nothing can change it now; see "
                            f"`python starter.py status {target}`")
        if err.status == RPCStatusCode.NOT_FOUND:
            hint = ""
            _, order = _ID.match(target).groups() if _ID.match(target) else (None, None)
            if order:
                hint = " (an order workflow starts once its request's documents are complete)"
            return CliError(f"no port {target}: check the id with `starter.py list`{hint}")
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED or (
                err.status == RPCStatusCode.CANCELLED and "timeout expired" in text.lower()):
            # the client's own deadline passed (the SDK reports it as CANCELLED 'Timeout expired')
            return CliError(f"{target}: no worker answered in time: is the worker running? "
                            "(`python worker.py`, or `make demo`)")
        if err.status in (RPCStatusCode.UNAVAILABLE,):
            return CliError(unreachable_message(text), EXIT_UNREACHABLE)
        if err.status == RPCStatusCode.FAILED_PRECONDITION and "Workflow Task in failed state" in text:
            return CliError(f"{target}: its workflow is stuck on a failing task (a bug, see the worker log and "
                            "the Temporal UI); the change was not applied")
        return CliError(f"{target}: the server refused: {_short(text)}")
    if isinstance(err, RuntimeError) and "Failed client connect" in str(err):
        return CliError(unreachable_message(str(err).split(":", 1)[-1]), EXIT_UNREACHABLE)
    if isinstance(err, ConnectionError | OSError):
        return CliError(unreachable_message(str(err)), EXIT_UNREACHABLE)
    raise err


@asynccontextmanager
async def about(target: str) -> AsyncIterator[None]:
    """Run a block that talks to ``target``'s workflow; Temporal errors become CliErrors."""
    from temporalio.client import (
        WorkflowQueryFailedError,
        WorkflowQueryRejectedError,
        WorkflowUpdateFailedError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    )
    from temporalio.service import RPCError

    try:
        yield
    except CliError:
        raise
    except (TimeoutError, WorkflowUpdateFailedError, WorkflowQueryFailedError, WorkflowQueryRejectedError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as err:
        raise translate(err, target) from err
