"""Shared pieces of the port commands: connecting, failing with one line, parsing values.

Every command ends in one of three ways: done (exit 0), refused with a message that says
what to fix (exit 1), or the server is unreachable / a file unreadable (exit 2).

This module is imported by every command group at ``starter.py`` start, ``--help`` included:
it imports nothing heavy (no Temporal client, pydantic, settings) until a function runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from core.text import shorten
from portflow.cli.errors import EXIT_UNREACHABLE, CliError

if TYPE_CHECKING:
    from pydantic import BaseModel
    from temporalio.client import Client

T = TypeVar("T")
MAX_TEXT = 2000  # a reason, a note, a carrier's words: what the update models accept
MAX_ACTOR = 254  # an e-mail address at most
By = Annotated[str | None, typer.Option("--by", metavar="EMAIL", help="Who does it (default: PORTFLOW_PM_EMAIL)")]


def console(stderr: bool = False) -> Console:
    """The console the port commands print to (``portflow.cli.render.console`` is this one)."""
    c = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not c.is_terminal:  # piped or captured: keep tables readable
        c.width = max(c.width, 120)
    return c


def fail(message: str, code: int = 1) -> NoReturn:
    console(stderr=True).print(Text(f"error: {message}", style="bold red"))
    raise typer.Exit(code)


def run(work: Callable[[Client], Awaitable[T]], refusals: tuple[type[Exception], ...] = ()) -> T:
    """Connect per settings and run ``work``; every failure ends as one line and an exit code.
    ``refusals``: a command group's own exceptions whose message is already the line to print."""
    import asyncio
    import gc

    from portflow.cli.errors import translate, unreachable_message
    from portflow.temporal import connect

    async def main() -> T:
        try:
            client = await asyncio.wait_for(connect(), timeout=15)
        except TimeoutError:
            raise CliError(unreachable_message("no answer within 15 s"), EXIT_UNREACHABLE) from None
        except Exception as err:
            raise translate(err, "server") from err
        try:
            return await work(client)
        except refusals as problem:
            raise CliError(str(problem)) from problem
        except (ValueError, CliError) as err:  # a payload this key ring cannot decrypt names its key
            from portflow.codec import PayloadKeyMissing, PayloadUndecryptable

            if isinstance(err, PayloadKeyMissing | PayloadUndecryptable):
                raise CliError(f"cannot read the port: {err}") from None
            raise

    try:
        return asyncio.run(main())
    except CliError as err:
        fail(err.message, err.code)
    finally:
        # Free the client's Rust-side objects now, while the interpreter is alive: left to
        # interpreter shutdown they sometimes abort it ("PyGILState_Release", sdk-python #300).
        gc.collect()


def actor(by: str | None) -> str:
    from core.settings import get_settings

    who = (by or get_settings().pm_email).strip()
    if not who or len(who) > MAX_ACTOR:
        fail(f"--by must be an e-mail or a name of 1 to {MAX_ACTOR} characters")
    return who


def limited(value: str | None, option: str, limit: int = MAX_TEXT) -> str | None:
    """``value`` (stripped) when it is at most ``limit`` characters; else exit 1 saying so."""
    if value is not None and len(value.strip()) > limit:
        fail(f"{option} is {len(value.strip()):,} characters long, more than {limit:,}: shorten it")
    return value.strip() if value is not None else None


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} '{shorten(value, 40)}' is not a date: write it as YYYY-MM-DD, e.g. 2027-03-16")


def model(cls: type[BaseModel], **fields: object) -> BaseModel:
    from pydantic import ValidationError

    try:
        return cls(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        fail(problems)


def done(message: str) -> None:
    console().print(Text(message, style="bold green"))
