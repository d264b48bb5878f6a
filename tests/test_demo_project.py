"""``python -m portflow.demo --project`` end to end: a whole implementation project with its
port on the real dev server, worker and API (about two minutes), leaving nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local_servers import free_ports
from tests.test_demo import listening

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.demo, pytest.mark.timeout(330)]

PHASES = ("initiate", "kick_off", "build", "go_live", "post_go_live", "acceptance", "closed")


def test_the_project_demo_runs_a_project_with_its_port_to_closed(tmp_path: Path) -> None:
    port, ui_port, api_port = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update(PORTFLOW_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "portflow.demo", "--project", "--port", str(port), "--ui-port", str(ui_port),
           "--api-port", str(api_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"the project demo did not finish within 5 minutes:\n{out[-4000:]}\n{err[-4000:]}")
    assert proc.returncode == 0, f"{out[-4000:]}\n{err[-4000:]}"
    assert "Traceback" not in out + err, f"{out[-4000:]}\n{err[-4000:]}"

    final = next(line for line in out.splitlines() if line.startswith("project DEMO-") and " closed in " in line)
    project_id = final.split()[1]
    assert "24 milestones done" in final
    # every phase, in order, in the summary
    summary = out[out.index(final):]
    assert [p for p in PHASES if f" {p} " in summary] == list(PHASES)
    # its port ran as its child and completed; the project saw it by itself
    assert "started as the project's child" in out
    assert "port PR-" in summary and "(started): completed" in summary
    assert "done: Numbers ported on go-live day [portflow: 1 port(s) completed" in out
    # the port's go-live gate passed before its activation, and its temporary number put the
    # forwarding's removal into acceptance
    assert "go-live gate   ready: change window" in out
    assert "task added: Temporary call forwarding removed (PR-" in out and "recorded 1 temporary number(s)" in out
    assert "done: Temporary call forwarding removed" in out
    # after go-live, a support case about the port, answered and resolved
    assert "P3 support case opened for PR-" in out and "first response due" in out
    assert " resolved (reopen until " in out and "Open issues and challenges reviewed: case-" in out
    assert f"Temporal UI: http://localhost:{ui_port}/namespaces/default/workflows/project-{project_id}" in out
    # milestone mail in the outbox, the port's mail too
    assert 'project_reminder' in summary and "port_complete" in summary
    # nothing left running
    assert not listening(port) and not listening(ui_port) and not listening(api_port)
