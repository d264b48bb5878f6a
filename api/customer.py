"""The customer's self-service page: ``GET /c/{token}`` and ``POST /c/{token}/upload``.

The token (``core.customer_links``) names one request; nothing else is reachable through it.
The page shows where the port stands and what is needed from the customer (portflow/
customer_page.py); an upload is checked here (size, type by content, rate limit) and then
attached by ``portflow.cli.actions.cmd_attach``, the function ``starter.py attach`` calls, so
the workflow moves the documents stage on when the last document arrives.

Every refusal is a plain page in the customer's language: a bad link (403 malformed or
forged, 410 expired or revoked), a file too large (413), not a PDF or image (415), too many
uploads (429). A forged or malformed link learns nothing about any request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath, PureWindowsPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api import customer_render as render
from api.deps import app_client, read_body
from core.settings import get_settings
from core.sniff import sniff
from models.request import DocumentKind
from portflow import customer_page
from portflow.customer_page import CustomerView
from store import customer_links
from store.customer_links import BadLink, LinkProblem

log = logging.getLogger("portflow.api.customer")

router = APIRouter(include_in_schema=False)  # pages for people, not part of the JSON API
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields beside the file
_EXTENSIONS = {"pdf": {".pdf"}, "png": {".png"}, "jpg": {".jpg", ".jpeg", ".jpe"}, "gif": {".gif"},
               "tif": {".tif", ".tiff"}, "webp": {".webp"}}



def _upload_path(token: str) -> str:
    return f"{customer_links.PATH_PREFIX}{token}/upload"


def _page_path(token: str) -> str:
    return f"{customer_links.PATH_PREFIX}{token}"


def _bad_link(request: Request, err: BadLink) -> HTMLResponse:
    """403 for a link we never issued (malformed, forged): a generic contact, the browser's
    language. 410 for one we issued that no longer works: the request's PM and language."""
    settings = get_settings()
    language, email = render.from_accept_language(request.headers.get("accept-language")), settings.pm_email
    if err.problem in (LinkProblem.EXPIRED, LinkProblem.REVOKED) and err.request_id:
        facts = customer_page.stored_facts(err.request_id)
        if facts is not None:
            language, email = facts
        return render.message(language, 410, title="err_title", message=f"err_{err.problem.value}",
                              problem=err.problem.value, email=email)
    return render.message(language, 403, title="err_title", message="err_invalid", problem="invalid", email=email)


def _verify(request: Request, token: str) -> str | HTMLResponse:
    """The request id the link opens now, or the page that says why it does not."""
    try:
        return customer_links.verify(token).request_id
    except BadLink as err:
        return _bad_link(request, err)
    except ValueError as err:  # the link key cannot be made (a short secret, an unreadable vault key)
        log.error("customer page: cannot check links: %s", err)
        return render.message(render.from_accept_language(request.headers.get("accept-language")), 503,
                              title="err_title", message="err_unavailable", problem="unavailable")


@router.get("/c/{token}", response_class=HTMLResponse)
async def customer_page_view(request: Request, token: str, uploaded: str | None = None) -> Response:
    verified = await asyncio.to_thread(_verify, request, token)
    if isinstance(verified, Response):
        return verified
    try:
        client = await app_client(request)
    except Exception as exc:  # noqa: BLE001 - the stored facts still show
        log.warning("customer page: no Temporal client: %s", exc)
        client = None
    view = await customer_page.load(client, verified)
    if view is None:  # signed by us, but this database does not know the request
        return _bad_link(request, BadLink(LinkProblem.TAMPERED))
    return render.page(view, upload_path=_upload_path(token), uploaded=uploaded == "1")


def _refuse(view: CustomerView, token: str, status: int, message: str, **args: object) -> HTMLResponse:
    return render.message(view.language, status, title="err_upload_title", message=message, problem=message,
                          back=_page_path(token), **args)


def _file_name(given: str | None, kind: str, ext: str) -> str:
    name = PureWindowsPath(PurePosixPath(given or "").name).name.strip()[:200] or kind
    return name if PurePosixPath(name).suffix.lower() in _EXTENSIONS[ext] else f"{name}.{ext}"


async def _form(request: Request, body: bytes) -> FormData:
    """The multipart form of a body already read (and size-checked)."""
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, receive).form(max_files=2, max_fields=10)


@router.post("/c/{token}/upload", response_class=HTMLResponse)
async def customer_upload(request: Request, token: str) -> Response:
    verified = await asyncio.to_thread(_verify, request, token)
    if isinstance(verified, Response):
        return verified
    request_id = verified
    view = await asyncio.to_thread(customer_page.from_store, request_id)
    if view is None:
        return _bad_link(request, BadLink(LinkProblem.TAMPERED))
    settings = get_settings()
    if not await asyncio.to_thread(customer_links.upload_allowed, request_id):
        return _refuse(view, token, 429, "err_too_many", minutes=settings.customer_upload_window_minutes)
    limit = int(settings.max_document_mb * 1024 * 1024)
    try:
        body = await read_body(request, limit + FORM_OVERHEAD)
    except HTTPException:
        await asyncio.to_thread(customer_links.record_upload, request_id, "too_large")
        return _refuse(view, token, 413, "err_too_large", mb=f"{settings.max_document_mb:g}")

    async def refused(outcome: str, status: int, message: str, **args: object) -> HTMLResponse:
        await asyncio.to_thread(customer_links.record_upload, request_id, outcome)
        return _refuse(view, token, status, message, **args)

    try:
        form = await _form(request, body)
    except Exception:  # noqa: BLE001 - any malformed multipart body is the same "incomplete upload"
        return await refused("bad_form", 400, "err_bad_form")
    try:
        return await _attach_upload(request, token, view, form, limit, refused)
    finally:
        await form.close()  # the spooled file parts


async def _attach_upload(request: Request, token: str, view: CustomerView, form: FormData, limit: int,
                         refused: Callable[..., Awaitable[HTMLResponse]]) -> Response:
    """Check the form's fields and file, then attach it as ``starter.py attach`` does."""
    settings, request_id = get_settings(), view.request_id
    kind, order, upload = form.get("kind"), form.get("order") or "", form.get("file")
    order_ids = {o.order_id for o in view.orders}
    if (kind not in ("csr", "bill") or not isinstance(order, str) or (order and order not in order_ids)
            or upload is None or isinstance(upload, str)):
        return await refused("bad_form", 400, "err_bad_form")
    data = await upload.read(limit + 1)
    if not data:
        return await refused("empty", 400, "err_empty")
    if len(data) > limit:
        return await refused("too_large", 413, "err_too_large", mb=f"{settings.max_document_mb:g}")
    found = sniff(data)
    if found is None:
        return await refused("wrong_type", 415, "err_wrong_type")
    await asyncio.to_thread(customer_links.record_upload, request_id, "accepted")
    from portflow.cli.actions import cmd_attach
    from portflow.cli.errors import CliError

    try:
        await cmd_attach(await app_client(request), request_id, data, DocumentKind(kind),
                         actor=f"{view.contact_email} (customer page)", order_id=order or None,
                         file_name=_file_name(upload.filename, kind, found[1]))
    except CliError as err:
        log.warning("customer page upload for %s refused: %s", request_id, err)
        if "already attached" in str(err):  # the same file again: the customer has nothing left to do
            return _refuse(view, token, 409, "err_duplicate")
        return _refuse(view, token, 409, "err_attach", email=view.pm_email)
    except Exception:  # noqa: BLE001 - Temporal unreachable: the customer retries, nothing half-done
        log.exception("customer page upload for %s failed", request_id)
        return _refuse(view, token, 503, "err_unavailable")
    return RedirectResponse(f"{_page_path(token)}?uploaded=1#documents", status_code=303)
