"""The port commands' command line: what a mistyped command says, before and without a server.

Arguments are checked before connecting, so these run with PORTFLOW_TEMPORAL_ADDRESS on a
closed port: a refusal exits 1 with what to fix, an unreachable server exits 2 naming the
setting and ``make demo``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import reset_settings
from portflow.cli.errors import CliError, parse_id
from portflow.cli.files import read_assignments
from portflow.cli.listing import ListFilter, build_query
from starter import app
from tests.cli.conftest import EXAMPLES
from tests.local_servers import free_ports
from tests.settings_helpers import use_settings


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    [port] = free_ports(1)  # nothing listens there
    use_settings(monkeypatch, TEMPORAL_ADDRESS=f"127.0.0.1:{port}", VAR_DIR=tmp_path / "var")
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        result = runner.invoke(app, list(args), input=input, env={"COLUMNS": "400"})
        return result.exit_code, " ".join(result.output.split())

    run.address = f"127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield run
    reset_settings()


def test_an_unreachable_server_names_the_setting_and_make_demo(invoke) -> None:
    code, out = invoke("status", "PR-2026-0042")
    assert code == 2
    assert f"cannot reach the Temporal server at {invoke.address}" in out
    assert "make demo" in out and "PORTFLOW_TEMPORAL_ADDRESS" in out
    assert "(nothing listens there)" in out  # the reason in words, not the transport's internals
    for internal in ("tonic", "ConnectError", "Os {", "transport::Error", "..."):
        assert internal not in out, out
    code, out = invoke("list", "--status", "exception")
    assert code == 2 and "PORTFLOW_TEMPORAL_ADDRESS" in out


def test_a_host_that_does_not_resolve_says_so_in_words(invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, TEMPORAL_ADDRESS="nosuchhost.invalid:7233")
    code, out = invoke("status", "PR-2026-0042")
    assert code == 2
    assert "cannot reach the Temporal server at nosuchhost.invalid:7233 (the host name is not known)" in out
    assert "tonic" not in out and "dns error" not in out


def test_start_refuses_what_check_refuses_without_a_server(invoke) -> None:
    code, out = invoke("start", str(EXAMPLES / "bad-invalid-number.yaml"))
    assert code == 1
    assert "invalid_number" in out and "not started" in out and "does not pass the check" in out
    code, out = invoke("start", str(EXAMPLES / "bad-lead-time.yaml"))
    assert code == 1 and "lead_time" in out and "record an expedite with --expedite REASON" in out
    code, out = invoke("start", str(EXAMPLES / "bad-unreadable.yaml"))
    assert code == 2 and "cannot read" in out


def test_unknown_fields_stop_start_unless_allowed(invoke) -> None:
    code, out = invoke("start", str(EXAMPLES / "bad-unknown-field.yaml"))
    assert code == 1 and "unknown_field" in out and "did you mean 'activation_time'" in out
    code, out = invoke("start", str(EXAMPLES / "bad-unknown-field.yaml"), "--allow-unknown-fields")
    assert code == 2 and "cannot reach the Temporal server" in out  # it got as far as connecting


def test_an_expedite_waives_only_the_lead_time(invoke) -> None:
    code, out = invoke("start", str(EXAMPLES / "bad-lead-time.yaml"), "--expedite", "the office moves early")
    assert "lead time waived by the expedite (the office moves early)" in out
    assert code == 2 and "cannot reach the Temporal server" in out  # it got as far as connecting
    code, out = invoke("start", str(EXAMPLES / "bad-weekend-date.yaml"), "--expedite", "urgent")
    assert code == 1 and "weekend_date" in out


@pytest.mark.parametrize(("args", "message"), [
    (["sign", "PR-2026-0042", "--name", "Jane Doe"],
     "PR-2026-0042 is a request; this command works on one of its orders, such as PR-2026-0042-1"),
    (["sign", "PR-2026-0042-1"], 'give either --name "Signer Name" to sign or --decline REASON to refuse'),
    (["status", "ACME-42"], "'ACME-42' is not a port id: request ids look like PR-2026-0042"),
    (["carrier-event", "PR-2026-0042-1", "--foc", "2026-12-21T09:00"], "needs its UTC offset"),
    (["carrier-event", "PR-2026-0042-1"], "say what the carrier said: --foc DATETIME"),
    (["carrier-event", "PR-2026-0042-1", "--foc", "2026-12-21T09:00-05:00", "--completed"],
     "record one carrier answer at a time, not --foc and --completed"),
    (["carrier-event", "PR-2026-0042-1", "--text", "BTN wrong"], "--text goes with --reject CODE"),
    (["assign", "PR-2026-0042", "--tn", "3125550100", "--tn", "3125550101", "--to", "a@b.example"],
     "2 --tn but 1 --to: give one --to after each --tn"),
    (["assign", "PR-2026-0042"], "nothing to assign: give --tn NUMBER --to WHO"),
    (["amend", "PR-2026-0042-1", "--signer-name", "Jane Doe", "--reason", "new signer"],
     "a corrected signer needs name, title and e-mail: add --signer-title, --signer-email"),
    (["amend", "PR-2026-0042-1", "--city", "Chicago", "--reason", "moved"],
     "a corrected service address needs every line: add --street, --state, --postal-code"),
    (["amend", "PR-2026-0042-1", "--reason", "nothing really"], "nothing to amend"),
    (["amend", "PR-2026-0042-1", "--btn", "555-0100", "--reason", "BTN fix"], "'555-0100'"),
    (["amend", "PR-2026-0042-1", "--port-date", "21/12/2026", "--reason", "later"],
     "--port-date '21/12/2026' is not a date: write it as YYYY-MM-DD"),
    (["list", "--status", "stuck"], "--status 'stuck' is not one of: intake, documents"),
    (["list", "--waiting-on", "martians"], "--waiting-on 'martians' is not one of: customer, signer, pm"),
    (["list", "--port-date-after", "2027-02-01", "--port-date-before", "2027-01-01"], "swap them"),
    (["expedite", "PR-2026-0042", "--reason", "ok"], "--reason is too short"),
    (["cancel", "PR-2026-0042", "--reason", ""], "--reason is too short"),
    (["verify", "PR-2026-0042-1", "--ok", "--notes", "ok"], "--notes is too short"),
    # unbounded text never reaches a workflow, and a long argument is not echoed whole
    (["cancel", "PR-2026-0042", "--reason", "x" * 2001], "--reason is 2,001 characters long, more than 2,000"),
    (["approve", "PR-2026-0042-1", "--note", "x" * 2001], "--note is 2,001 characters long"),
    (["carrier-event", "PR-2026-0042-1", "--reject", "X" * 101], "--reject is 101 characters long"),
    (["sign", "PR-2026-0042-1", "--name", "N" * 201], "--name is 201 characters long, more than 200"),
    (["status", "Z" * 500], "… (500 characters)' is not a port id"),
    (["amend", "PR-2026-0042-1", "--reason", "fix", "--port-type", "q" * 500], "(500 characters)': give full"),
    (["assign", "PR-2026-0042", "--tn", "3125550100", "--to", "w" * 300], "--to is 300 characters long, more than 254"),
    (["amend", "PR-2026-0042-1", "--reason", "new name", "--entity-name", "Acme \x07"],
     "--entity-name: the LOA cannot print U+0007"),
])
def test_argument_mistakes_say_what_to_fix_before_connecting(invoke, args: list[str], message: str) -> None:
    code, out = invoke(*args)
    assert code == 1, out
    assert message in out


def test_missing_options_and_files(invoke, tmp_path: Path) -> None:
    code, out = invoke("verify", "PR-2026-0042-1", "--notes", "test calls in and out")
    assert code == 2 and "--ok" in out  # click: a required option
    code, out = invoke("attach", "PR-2026-0042", str(tmp_path / "missing.pdf"), "--kind", "csr")
    assert code == 2 and "is not a readable file" in out
    code, out = invoke("attach", "PR-2026-0042", str(EXAMPLES / "documents/lumen-csr.pdf"), "--kind", "loa")
    assert code == 2 and "loa" in out  # only csr, bill, other
    bad = tmp_path / "who.csv"
    bad.write_text("number;person\n3125550100;a@b.example\n", "utf-8")
    code, out = invoke("assign", "PR-2026-0042", "--file", str(bad))
    assert code == 1 and "the first row must name the columns, e.g. `tn,to`" in out


def test_a_secret_is_prompted_hidden_and_never_printed(invoke) -> None:
    code, out = invoke("amend", "PR-2026-0042-1", "--pin", "--reason", "PIN from the bill", input="640021\n640021\n")
    assert "640021" not in out
    assert code == 2  # sealed in the vault, then the (closed) server


def test_status_of_an_unknown_port_on_a_live_server(dev_env, tmp_path: Path, monkeypatch) -> None:
    use_settings(monkeypatch, TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
                 VAR_DIR=tmp_path / "var")
    result = CliRunner().invoke(app, ["status", "PR-2099-0001"], env={"COLUMNS": "400"})
    reset_settings()
    assert result.exit_code == 1
    assert "no port PR-2099-0001: check the id with `starter.py list`" in " ".join(result.output.split())


def test_list_query_is_built_from_known_values_only() -> None:
    q = build_query(ListFilter(status="FOC_Confirmed", carrier="Lumen", waiting_on="Customer", escalated=True))
    assert q == ("WorkflowType = 'PortRequestWorkflow' AND PortStatus = 'foc_confirmed' AND LosingCarrier = 'Lumen' "
                 "AND WaitingOn = 'customer' AND Escalated = true")
    from datetime import date

    q = build_query(ListFilter(orders=True, carrier="O'Brien Tel", port_date_before=date(2027, 1, 1), running=True))
    assert "WorkflowType = 'PortOrderWorkflow'" in q and "LosingCarrier = 'O\\'Brien Tel'" in q
    assert "PortDate < '2027-01-01T00:00:00Z'" in q and "ExecutionStatus = 'Running'" in q


def test_ids_and_assignment_files(tmp_path: Path) -> None:
    assert parse_id(" pr-2026-0042-3 ") == ("PR-2026-0042", "PR-2026-0042-3")
    with pytest.raises(CliError, match="is not a port id"):
        parse_id("PR-26-1")
    groups = read_assignments(EXAMPLES / "demo-assignments.csv")
    assert groups["resource_account"]["(773) 555-0140"] == "main-aa@northwindpeds.example"
    assert len(groups["user"]) == 5
    twice = tmp_path / "twice.csv"
    twice.write_text("tn,to,kind\n3125550100,a@b.example,user\n3125550100,c@b.example,user\n"
                     "3125550101,,user\n3125550102,d@b.example,robot\n", "utf-8")
    with pytest.raises(CliError) as err:
        read_assignments(twice)
    assert "row 3: 3125550100 is listed twice" in err.value.message
    assert "row 4: give both the number and who gets it" in err.value.message
    assert "row 5: kind 'robot' is neither user nor resource_account" in err.value.message
