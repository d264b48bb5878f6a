"""A real HTTP receiver for outgoing webhooks (http.server in a thread), as an integrator would
run one: it verifies every delivery's signature with ``core.webhook_signing.verify`` and
answers with scripted status codes (then 200)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.webhook_signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, SignatureError, verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict[str, Any] | None
    error: str | None
    answered: int


@dataclass
class Receiver:
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    # path -> answers to give first: a status code, or (code, extra headers)
    script: dict[str, list[int | tuple[int, dict[str, str]]]] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.path == path]

    def accepted(self, path: str) -> list[Received]:
        return [r for r in self.on(path) if 200 <= r.answered < 300]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            secret = rec.secrets.get(self.path, "")
            try:
                event, error = verify(body, self.headers.get(SIGNATURE_HEADER, ""), secret), None
                assert event["id"] == self.headers.get(EVENT_ID_HEADER)
                assert event["type"] == self.headers.get(EVENT_TYPE_HEADER)
            except (SignatureError, AssertionError) as exc:
                event, error = None, str(exc) or "header mismatch"
            with rec.lock:
                queue = rec.script.get(self.path, [])
                answer = 401 if error else (queue.pop(0) if queue else 200)
                code, extra = answer if isinstance(answer, tuple) else (answer, {})
                rec.got.append(Received(self.path, dict(self.headers), body, event, error, code))
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"ok" if code < 300 else f"scripted {code}".encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
