"""``make demo`` end to end: the real dev server, worker and API, a port to completion.

Runs ``python -m devtools.demo`` in a subprocess with a fresh var/ and free ports (so a
developer's own server on 7233/8233 is neither used nor disturbed) and checks what a
person running it sees, and that it leaves nothing running. About two minutes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local_servers import free_ports
from tests.mail_helpers import outbox
from tests.polling import eventually_sync
from tests.test_data_at_rest import leaks

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.demo, pytest.mark.timeout(330)]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_demo_runs_a_port_to_completion_and_stops_everything(tmp_path: Path) -> None:
    port, ui_port, api_port = free_ports(3)
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update(PORTFLOW_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "devtools.demo", "--port", str(port), "--ui-port", str(ui_port),
           "--api-port", str(api_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # the demo stops its dev server on Ctrl-C
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"the demo did not finish within 4 minutes:\n{out[-4000:]}\n{err[-4000:]}")
    assert proc.returncode == 0, f"{out[-4000:]}\n{err[-4000:]}"
    # what the PM watching it sees: no traceback (a cancelled poll used to print one)
    assert "Traceback" not in out + err, f"{out[-4000:]}\n{err[-4000:]}"

    # a versioned worker (Worker Deployment 'portflow') ran the port: its build was made current first
    assert "of Worker Deployment 'portflow' is current (was unversioned" in out, out[-4000:]
    lines = out.splitlines()
    final = next(line for line in lines if " completed in " in line)
    request_id = final.split()[0]
    assert request_id.startswith("PR-")
    assert f"Temporal UI: http://localhost:{ui_port}/namespaces/default/workflows/{request_id}" in out
    # issue 16: the customer's link to the port's self-service page, served by the demo's API
    assert f"customer page: http://localhost:{api_port}/c/{request_id}." in out
    # and the same port read back through the REST API with a key made for the demo
    assert f"REST API: GET /v1/ports/{request_id} -> 200 (completed)" in out, out[-3000:]
    assert f"curl -H 'Authorization: Bearer pf_" in out
    for order in (f"{request_id}-1", f"{request_id}-2"):
        assert any(order in line and "loa_sent -> loa_signed" in line for line in lines), order
        assert any(order in line and "foc_confirmed" in line for line in lines), order
        assert any(order in line and "verified -> completed" in line for line in lines), order
    assert "PM assigns" in out
    assert "(773) 555-0140  active     main-aa@northwindpeds.example" in out

    # at most one assignment reminder per order, with a real date (the demo sent two, "before -")
    reminders = outbox(var, "assign_reminder")
    assert all("before -" not in m.subject for m in reminders), [m.subject for m in reminders]
    assert len({m.order_id for m in reminders}) == len(reminders), [m.subject for m in reminders]
    subjects = [m.subject for m in outbox(var)]
    assert any("Port complete" in s for s in subjects), subjects
    assert (var / "demo-request.yaml").is_file() and (var / "temporal.log").is_file()
    # issue 14: the server's database holds none of the request's customer data (encrypted payloads)
    assert leaks(var) == [], leaks(var)
    assert "--codec-endpoint http://127.0.0.1:" in out
    assert "stopping the Temporal dev server" in out
    assert not listening(port) and not listening(ui_port) and not listening(api_port)


def test_ctrl_c_stops_everything_the_demo_started(tmp_path: Path) -> None:
    import threading

    port, ui_port, api_port = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update(PORTFLOW_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "devtools.demo", "--port", str(port), "--ui-port", str(ui_port),
           "--api-port", str(api_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    def started() -> bool:
        assert proc.poll() is None, "the demo exited"
        return any(" started PR-" in line for line in lines)

    try:
        eventually_sync(started, what="the demo to start its port", timeout=90, show=lambda _: "".join(lines)[-3000:])
    except AssertionError as err:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"the demo did not start its port ({err}):\n" + "".join(lines) + proc.stderr.read()[-3000:])
    assert listening(port) and listening(ui_port) and listening(api_port)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does to the demo
    try:
        err = proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the demo did not stop within 60 s of Ctrl-C")
    reader.join(5)
    assert proc.returncode == 130
    assert "interrupted: everything the demo started is stopped" in err
    assert not listening(port) and not listening(ui_port) and not listening(api_port)
