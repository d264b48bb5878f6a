"""What ``start`` says when the start does not go to plan (issue 12), on the dev server.

- Two requests race for the same numbers: one wins; the loser is told which numbers are held
  by which port (it used to print "documents can no longer be attached").
- No worker answers (none runs, or it died during the start): the port has started, and
  ``start`` says so with its id, how to follow it and the documents still to attach (it used
  to exit 1 with "the server refused: Timeout expired").
"""

from __future__ import annotations

import asyncio
import functools

import pytest
from typer.testing import CliRunner

from portflow.cli import actions
from portflow.cli.errors import CliError
from portflow.cli.files import plan_start
from portflow.cli.starting import StartUnconfirmed, cmd_start
from tests.cli.conftest import PM, Harness, business_days_ahead
from tests.polling import eventually


async def test_the_loser_of_a_race_for_the_same_numbers_is_told_who_holds_them(cli: Harness) -> None:
    port_date = business_days_ahead(30)
    plans = [plan_start(cli.request_file(port_date=port_date)) for _ in range(2)]
    ids = [await actions.fresh_request_id(cli.client) for _ in plans]
    numbers = set(plans[0].request.all_numbers)
    async with cli.worker():
        outcomes = await asyncio.gather(*(
            actions.cmd_start(cli.client, p.request.model_copy(update={"id": rid}), base_dir=p.base_dir, actor=PM)
            for p, rid in zip(plans, ids)), return_exceptions=True)
    won = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException) and o.status.value != "failed"]
    assert len(won) == 1, outcomes
    winner, loser = ids[won[0]], outcomes[1 - won[0]]
    if isinstance(loser, CliError):  # refused before starting: the numbers were claimed already
        message = loser.message
    else:
        assert not isinstance(loser, BaseException), loser
        assert loser.status.value == "failed"
        message = loser.timeline[-1].reason
        # and its next step is the PM's (it said "next: intake · waiting on nobody" once)
        assert loser.next.waiting_on.value == "pm" and "starts it again" in loser.next.what, loser.next
    assert "documents can no longer be attached" not in message
    assert winner in message, message
    assert any(n in message for n in numbers), message


async def test_start_without_a_worker_says_the_port_started_and_how_to_go_on(cli: Harness) -> None:
    plan = plan_start(cli.request_file(port_date=business_days_ahead(30)))
    rid = await actions.fresh_request_id(cli.client)
    with pytest.raises(StartUnconfirmed) as caught:
        await cmd_start(cli.client, plan.request.model_copy(update={"id": rid}), base_dir=plan.base_dir, actor=PM,
                        wait=3)
    u = caught.value
    assert u.request_id == rid and len(u.unattached) == 4
    assert "Timeout expired" not in str(u) and "no worker answered" in u.why
    assert await actions.running_state(cli.client, rid) is True
    # the worker comes back: the port goes on, and the printed commands attach what is missing
    async with cli.worker():
        for line in u.attach_commands():
            args = line.split()[2:]
            order = args[args.index("--order") + 1] if "--order" in args else None
            await actions.cmd_attach(cli.client, args[1], __import__("pathlib").Path(args[2]),
                                     __import__("models.request", fromlist=["DocumentKind"]).DocumentKind(args[4]),
                                     actor=PM, order_id=order)
        page = await eventually(lambda: actions.cmd_status(cli.client, rid),
                                lambda p: p.request is not None and not p.request.missing_documents
                                and p.request.status.value not in ("intake", "documents"), what="documents complete")
    assert page.request.status.value != "failed"


def test_the_start_command_reports_an_unconfirmed_start(cli: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import starter

    monkeypatch.setattr(actions, "cmd_start", functools.partial(cmd_start, wait=3))
    path = cli.request_file(port_date=business_days_ahead(30), documents=False)
    result = CliRunner().invoke(starter.app, ["start", str(path)], env={"COLUMNS": "300"})
    out = " ".join(result.output.split())
    assert result.exit_code == 0, out
    assert "started PR-" in out and "not confirmed yet: no worker answered" in out
    assert "python starter.py status PR-" in out
    assert "Timeout expired" not in out and "refused" not in out

    path = cli.request_file(port_date=business_days_ahead(30), documents=True)
    result = CliRunner().invoke(starter.app, ["start", str(path)], env={"COLUMNS": "300"})
    out = " ".join(result.output.split())
    assert result.exit_code == 1, out
    assert "python starter.py attach PR-" in out and "--kind csr --order PR-" in out
    assert "4 document(s) are not attached yet" in out
