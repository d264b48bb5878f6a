"""A local DocuSign that speaks the wire format the real ``docusign-esign`` SDK uses.

One TLS server on 127.0.0.1 (ephemeral port) answers both OAuth (``/oauth/token`` JWT
grant, ``/oauth/userinfo``) and the REST API (``/restapi/v2.1/accounts/{id}/...``). The
certificate is made at test time (``certs.py``). Connect messages queued by the account
are posted, HMAC-signed like DocuSign does, by :meth:`DocuSignStandIn.deliver`.

Faults for the error tests: :meth:`DocuSignStandIn.fail` makes the next call(s) of one
operation answer an error, or do the work and then answer too late (a read timeout that
leaves the envelope behind).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from tests.docusign_standin.account import ConnectMessage, DocuSignError, StandInAccount
from tests.docusign_standin.certs import make_tls_cert

OPS = ("token", "userinfo", "create", "list", "get", "update", "document", "folders")


@dataclass
class Fault:
    status: int | None = None  # answer this instead of doing the work
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # do the work, then wait this long before answering


@dataclass
class Delivery:
    event: str
    status_code: int
    body: Any


def connect_signatures(raw: bytes, keys: list[str]) -> dict[str, str]:
    """X-DocuSign-Signature-1..N: base64(HMAC-SHA256(key, raw body)), one per account key."""
    return {
        f"X-DocuSign-Signature-{i}": base64.b64encode(hmac.new(k.encode(), raw, hashlib.sha256).digest()).decode()
        for i, k in enumerate(keys, start=1)
    }


class DocuSignStandIn:
    def __init__(self, tmp: Path, *, integration_key: str, user_id: str, public_key: bytes,
                 account_id: str = "4c1e5a10-0000-4000-8000-00000000a001", hmac_keys: list[str] | None = None) -> None:
        self.integration_key = integration_key
        self.user_id = user_id
        self.public_key = public_key
        self.account = StandInAccount(account_id, user_id)
        self.hmac_keys = list(hmac_keys or [])
        self.consented = {user_id}
        self.token_lifetime = 3600
        self.tokens: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.faults: dict[str, list[Fault]] = {op: [] for op in OPS}
        self.cert_path, self.key_path = make_tls_cert(tmp)
        self._httpd: ThreadingHTTPServer | None = None
        self._conns: set[Any] = set()

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> DocuSignStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        # Handshake in the handler thread, so a slow client never blocks accept().
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._httpd = httpd
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: the network is gone."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for conn in list(self._conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    @property
    def host(self) -> str:
        assert self._httpd is not None
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_uri(self) -> str:
        return f"https://{self.host}"

    # --- knobs for tests ----------------------------------------------------------
    def fail(self, op: str, *, status: int | None = None, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, delay: float = 0.0, times: int = 1) -> None:
        assert op in OPS, op
        self.faults[op].extend(Fault(status, body or {}, headers or {}, delay) for _ in range(times))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def __getattr__(self, name: str) -> Any:  # open/sign/decline/expire/bounce/envelopes
        return getattr(self.account, name)

    # --- Connect ------------------------------------------------------------------
    async def deliver(self, client: httpx.AsyncClient | None = None) -> list[Delivery]:
        """Post every queued Connect message; keep those not answered 200 (DocuSign retries)."""
        with self.account.lock:
            pending, self.account.outbox[:] = list(self.account.outbox), []
        results: list[Delivery] = []
        kept: list[ConnectMessage] = []
        async with httpx.AsyncClient(timeout=10) if client is None else _borrow(client) as http:
            for msg in pending:
                body = dict(msg.body, retryCount=msg.retry_count)
                raw = json.dumps(body).encode()
                headers = {"Content-Type": "application/json", **connect_signatures(raw, self.hmac_keys)}
                resp = await http.post(msg.url, content=raw, headers=headers)
                try:
                    answer: Any = resp.json()
                except ValueError:
                    answer = resp.text
                results.append(Delivery(msg.event, resp.status_code, answer))
                if resp.status_code != 200:
                    msg.retry_count += 1
                    kept.append(msg)
        with self.account.lock:
            self.account.outbox[:0] = kept
        return results

    # --- OAuth --------------------------------------------------------------------
    def grant(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(form.get("assertion", [""])[0], self.public_key, algorithms=["RS256"],
                                audience=self.host, options={"require": ["iss", "sub", "aud", "iat", "exp"]})
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"no_valid_keys_or_signatures ({exc})"}
        if claims["iss"] != self.integration_key:
            return 400, {"error": "invalid_client", "error_description": "issuer_not_found"}
        if claims["sub"] != self.user_id:
            return 400, {"error": "invalid_grant", "error_description": "user_not_found"}
        if set(claims.get("scope", "").split()) != {"signature", "impersonation"}:
            return 400, {"error": "invalid_scope"}
        if claims["sub"] not in self.consented:
            return 400, {"error": "consent_required"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_lifetime
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        expires = self.tokens.get(header.removeprefix("Bearer "))
        return expires is not None and expires > time.time()

    def userinfo(self) -> dict[str, Any]:
        return {"sub": self.user_id, "name": "Stand-in Sender", "email": "sender@standin.test", "accounts": [
            {"account_id": "00000000-0000-4000-8000-0000000000ff", "is_default": False,
             "account_name": "Other account", "base_uri": "https://127.0.0.1:9"},
            {"account_id": self.account.account_id, "is_default": True, "account_name": "portflow test",
             "base_uri": self.base_uri},
        ]}

    # --- REST ---------------------------------------------------------------------
    def rest(self, method: str, parts: list[str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        """``parts`` is the path after /restapi/v2.1/accounts/{accountId}/."""
        acct = self.account
        if parts == ["envelopes"] and method == "POST":
            env = acct.create(body)
            return 201, {"envelopeId": env.envelope_id, "uri": f"/envelopes/{env.envelope_id}",
                         "statusDateTime": env.status_changed_at, "status": env.status}
        if parts == ["envelopes"] and method == "GET":
            found = acct.search(query)
            return 200, {"resultSetSize": str(len(found)), "totalSetSize": str(len(found)), "startPosition": "0",
                         "endPosition": str(max(0, len(found) - 1)),
                         "envelopes": [e.summary(include_recipients=False) for e in found]}
        if len(parts) == 2 and parts[0] == "envelopes" and method == "GET":
            include = query.get("include", "").split(",")
            return 200, acct.get(parts[1]).summary(include_recipients="recipients" in include)
        if len(parts) == 2 and parts[0] == "envelopes" and method == "PUT":
            acct.update(parts[1], body)
            return 200, {"envelopeId": parts[1]}
        if len(parts) == 4 and parts[0] == "envelopes" and parts[2] == "documents" and method == "GET":
            return 200, acct.document(parts[1], parts[3], certificate=query.get("certificate", "true") != "false")
        if parts == ["folders", "recyclebin"] and method == "PUT":
            acct.recycle(body.get("envelopeIds") or [])
            return 200, {}
        raise DocuSignError(404, "RESOURCE_NOT_FOUND", f"{method} {'/'.join(parts)} is not a stand-in resource")


class _Handler(BaseHTTPRequestHandler):
    owner: DocuSignStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
        self.owner._conns.add(self.connection)

    def finish(self) -> None:
        self.owner._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        s = self.owner
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = url.path.rstrip("/")
        parts = path.split("/")[1:]
        op = _operation(method, parts)
        s.calls[op] += 1
        s.log.append((method, path, parse_qs(url.query)))
        fault = s.faults[op].pop(0) if s.faults.get(op) else None
        if fault is not None and fault.status is not None:
            return self._answer(fault.status, fault.body, fault.headers)
        try:
            status, answer = self._route(method, path, parts, query, raw)
        except DocuSignError as exc:
            status, answer = exc.status, exc.body()
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # the work is done; the answer comes too late
        self._answer(status, answer)

    def _route(self, method: str, path: str, parts: list[str], query: dict[str, str], raw: bytes) -> tuple[int, Any]:
        s = self.owner
        if path == "/oauth/token" and method == "POST":
            return s.grant(parse_qs(raw.decode()))
        if not s.authorized(self.headers.get("Authorization")):
            return 401, {"errorCode": "USER_AUTHENTICATION_FAILED", "message": "One or both of Username and Password are invalid. Invalid access token"}
        if path == "/oauth/userinfo" and method == "GET":
            return 200, s.userinfo()
        if parts[:4] != ["restapi", "v2.1", "accounts", s.account.account_id]:
            return 400, {"errorCode": "INVALID_ACCOUNT_ID", "message": f"unknown account or path {path}"}
        body = json.loads(raw) if raw else {}
        return s.rest(method, parts[4:], query, body)

    def _answer(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/pdf" if isinstance(answer, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (OSError, ssl.SSLError):
            self.close_connection = True  # the client gave up (read timeout)


def _operation(method: str, parts: list[str]) -> str:
    if parts[:2] == ["oauth", "token"]:
        return "token"
    if parts[:2] == ["oauth", "userinfo"]:
        return "userinfo"
    rest = parts[4:]
    if rest[:1] == ["folders"]:
        return "folders"
    if rest == ["envelopes"]:
        return "create" if method == "POST" else "list"
    if len(rest) >= 3 and rest[2] == "documents":
        return "document"
    return "update" if method == "PUT" else "get"


class _borrow:
    """Use a caller's httpx client in ``async with`` without closing it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        return None
