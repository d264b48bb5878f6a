"""Rendering a notification: template name + language + context -> subject, text and HTML.

Templates are files (``templates/<lang>/<name>.txt.j2``, first line ``Subject: ...``) so that
wording can be reviewed and translated without touching code. Customer-facing templates exist
in every language portflow speaks (en, es, pt, fr); PM and ops templates are English only and
any language falls back to them.

Rendering is strict on purpose: a variable the caller forgot is an error naming the template
and the variable (never a blank in a customer's mail), and a context key that looks like a
secret (account number, PIN, passcode) is refused before any template sees it. Both errors are
non-retryable: retrying cannot fix the caller's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import phonenumbers
from jinja2 import meta, nodes

from core.settings import Settings, get_settings
from models.notify import Audience, Notification
from providers.notify.base import NotifyError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("en", "es", "pt", "fr")
FALLBACK_LANGUAGE = "en"

# Templates a customer (main point of contact) or the authorized signer reads: all four languages.
CUSTOMER_TEMPLATES = frozenset(
    {
        "request_received",
        "documents_missing",
        "date_slipped",
        "loa_sent",
        "loa_reminder",
        "loa_signed",
        "loa_voided",
        "exception",
        "foc_confirmed",
        "foc_changed",
        "numbers_ready",
        "assign_reminder",
        "port_reminder",
        "port_day",
        "port_complete",
        "cancelled",
        "case_opened",
        "case_update",
        # to the PM and ops, in the port's language (issue 17: go-live gate)
        "gate_not_ready",
    }
)
# Templates only PMs and ops read (internal links and details): English only.
STAFF_TEMPLATES = frozenset(
    {
        "loa_declined",
        "loa_expired",
        "unassigned_escalation",
        "activation_failed",
        "carrier_silent",
        "inventory_late",
        "digest",
        "escalation",
        "case_escalation",
    }
)
TEMPLATE_NAMES = CUSTOMER_TEMPLATES | STAFF_TEMPLATES
STAFF_AUDIENCES = frozenset({Audience.PM, Audience.OPS})

# Variables every template may use; render() fills them from the Notification and settings,
# so they must not be in ``note.context``.
INJECTED = frozenset(
    {"request_id", "order_id", "priority", "language", "recipient_names", "ui_url"}
)
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_REQUIRED = frozenset({"escalation", "case_escalation"})

_SECRET_WORDS = frozenset(
    {"pin", "pins", "passcode", "passcodes", "password", "passwd", "secret", "token"}
)
_SECRET_JOINED = ("accountnumber", "accountno", "acctnumber", "acctno", "acctnum", "accountnum")
_VAULT_REF = re.compile(r"\bsec_[0-9a-f]{32}\b")


class TemplateError(NotifyError):
    """A notification that cannot be rendered (unknown template, missing variable, secret in
    the context, wrong audience): the caller's data or code must change, so never retried."""

    retryable = False


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str | None
    language: str  # the language actually used (en when a staff template falls back)


def secret_like(name: str) -> bool:
    """True for context keys named like a secret: ``account_number``, ``pin``, ``pin_passcode``,
    ``accountNumber``, ``smtp_password``... Words are compared whole, so ``shipping`` passes."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", snake) if w]
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or any(p in joined for p in _SECRET_JOINED)


def national(value: Any) -> Any:
    """Jinja filter: E.164 number(s) -> national format, ``+14155550123`` -> ``(415) 555-0123``."""
    if isinstance(value, (list, tuple)):
        return [national(v) for v in value]
    text = str(value)
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise TemplateError(
            f"{text!r} is not an E.164 phone number: pass numbers to notifications as +1NXXNXXXXXX"
        ) from None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


class _PrintedNone(Exception):
    """Raised inside Jinja when an expression would print ``None``; render() explains it."""


def _finalize(value: Any) -> Any:
    # None is allowed in the context ("does not apply") but never printed: a template must
    # guard it (``{% if x %}`` or ``x or "..."``), so no mail ever says "sign by None".
    if value is None:
        raise _PrintedNone
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        finalize=_finalize,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["national"] = national
    return env


def template_path(name: str, language: str, kind: str = "txt") -> str | None:
    """The template file used for ``name`` in ``language`` (falling back to English), or None."""
    for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
        path = f"{lang}/{name}.{kind}.j2"
        if (TEMPLATES_DIR / path).is_file():
            return path
    return None


def available_languages(name: str) -> list[str]:
    """Languages that have their own text template for ``name`` (no fallback)."""
    return [lang for lang in LANGUAGES if (TEMPLATES_DIR / lang / f"{name}.txt.j2").is_file()]


def _names_used(path: str, seen: set[str] | None = None) -> tuple[set[str], set[str]]:
    """(undeclared variables, every name and attribute referenced) of a template and the
    templates it includes or imports."""
    env = environment()
    seen = seen if seen is not None else set()
    seen.add(path)
    assert env.loader is not None
    source = env.loader.get_source(env, path)[0]
    ast = env.parse(source)
    undeclared = set(meta.find_undeclared_variables(ast))
    referenced = {n.name for n in ast.find_all(nodes.Name)} | {
        n.attr for n in ast.find_all(nodes.Getattr)
    }
    for ref in meta.find_referenced_templates(ast):
        if ref and ref not in seen:
            sub_undeclared, sub_referenced = _names_used(ref, seen)
            undeclared |= sub_undeclared
            referenced |= sub_referenced
    return undeclared, referenced


def referenced_names(name: str, language: str) -> frozenset[str]:
    """Every variable or attribute name the template (and its partials) mentions."""
    path = template_path(name, language)
    if path is None:
        raise TemplateError(f"no template {name!r}")
    return frozenset(_names_used(path)[1])


@cache
def required_variables(name: str, language: str = FALLBACK_LANGUAGE) -> frozenset[str]:
    """The context keys template ``name`` needs in ``language``, beyond those render() fills.

    Every variable is required (pass None or [] when it does not apply): a template never
    guesses whether an absent key was forgotten or meant.
    """
    path = template_path(name, language)
    if path is None:
        raise TemplateError(f"no template {name!r}: use one of {', '.join(sorted(TEMPLATE_NAMES))}")
    return frozenset(_names_used(path)[0] - INJECTED - set(environment().globals))


def ui_url(note: Notification, settings: Settings) -> str:
    """The workflow's page in the Temporal UI (the order's when there is one)."""
    workflow_id = note.order_id or note.request_id
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{quote(settings.temporal_namespace, safe='')}"
        f"/workflows/{quote(workflow_id, safe='')}"
    )


def _holds_vault_ref(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and _VAULT_REF.search(v) for v in items)


def check(note: Notification) -> str:
    """Everything that makes a notification unrenderable, found before rendering; returns the
    template path. Raises TemplateError with what to fix."""
    name, where = note.template, f"notification {note.key!r} (request {note.request_id})"
    if name not in TEMPLATE_NAMES:
        raise TemplateError(
            f"{where}: unknown template {name!r}; use one of {', '.join(sorted(TEMPLATE_NAMES))}"
        )
    secret_keys = sorted(k for k in note.context if secret_like(k))
    if secret_keys:
        raise TemplateError(
            f"{where}: context keys {', '.join(secret_keys)} are named like secrets (account number, "
            "PIN, passcode); notifications never carry secrets: remove them from the context"
        )
    refs = sorted(k for k, v in note.context.items() if _holds_vault_ref(v))
    if refs:
        raise TemplateError(
            f"{where}: context keys {', '.join(refs)} hold vault references; remove them"
        )
    clash = sorted(INJECTED & note.context.keys())
    if clash:
        raise TemplateError(
            f"{where}: context keys {', '.join(clash)} are filled from the Notification itself "
            "(request_id, order_id, priority, language, recipients): set them there, not in context"
        )
    if name in STAFF_TEMPLATES:
        outsiders = [
            f"{r.audience.value} {r.address}" for r in note.to if r.audience not in STAFF_AUDIENCES
        ]
        if outsiders:
            raise TemplateError(
                f"{where}: template {name!r} is for PMs and ops only, but it is addressed to "
                f"{', '.join(outsiders)}; send the customer a customer template instead"
            )
    if name in PRIORITY_REQUIRED and note.priority not in PRIORITIES:
        raise TemplateError(
            f"{where}: template {name!r} needs priority P1..P4 (got {note.priority!r})"
        )
    path = template_path(name, note.language.value)
    if path is None:  # pragma: no cover - every name in TEMPLATE_NAMES has an English file (tested)
        raise TemplateError(f"{where}: template file for {name!r} is missing")
    missing = sorted(required_variables(name, note.language.value) - note.context.keys())
    if missing:
        raise TemplateError(
            f"{where}: template {path} needs context variable(s) {', '.join(missing)}, "
            "which the notification does not give (pass None or [] when one does not apply)"
        )
    return path


def _split_subject(raw: str, path: str) -> tuple[str, str]:
    first, _, rest = raw.lstrip("\n").partition("\n")
    if not first.startswith("Subject:"):
        raise TemplateError(f"template {path} must start with a 'Subject: ...' line")
    subject = " ".join(first[len("Subject:") :].split())
    if not subject:
        raise TemplateError(f"template {path} rendered an empty subject")
    text = re.sub(r"[ \t]+\n", "\n", rest.strip("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return subject, text.rstrip() + "\n"


def _blocks(text: str) -> list[dict[str, Any]]:
    """Paragraphs and bullet lists of a text body, for the HTML layout."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = chunk.split("\n")
        if all(line.startswith("- ") for line in lines):
            blocks.append({"kind": "list", "lines": [line[2:] for line in lines]})
        else:
            blocks.append({"kind": "para", "lines": lines})
    return blocks


def render(note: Notification, settings: Settings | None = None) -> RenderedMessage:
    """Render ``note`` in its language (English for PM/ops templates). Raises TemplateError."""
    settings = settings or get_settings()
    path = check(note)
    language = path.split("/", 1)[0]
    context: dict[str, Any] = dict(note.context)
    context.update(
        request_id=note.request_id,
        order_id=note.order_id,
        priority=note.priority,
        language=language,
        recipient_names=", ".join(r.name for r in note.to if r.name),
        ui_url=ui_url(note, settings),
    )
    env = environment()
    try:
        subject, text = _split_subject(env.get_template(path).render(context), path)
        html_path = template_path(note.template, language, kind="html")
        if html_path is not None:
            html = env.get_template(html_path).render(context, subject=subject)
        else:
            html = env.get_template("_layout.html.j2").render(
                subject=subject, blocks=_blocks(text), language=language
            )
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"notification {note.key!r}: template {path}: {exc}") from None
    except _PrintedNone:
        nones = sorted(k for k, v in context.items() if v is None)
        raise TemplateError(
            f"notification {note.key!r}: template {path} would print None; one of the variables that "
            f"are None ({', '.join(nones)}) needs a value here"
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {path} is broken: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # e.g. a list variable given as None or a number given as text
        raise TemplateError(
            f"notification {note.key!r}: template {path} cannot use the context it was given "
            f"({type(exc).__name__}: {exc}); check the variables' types"
        ) from None
    return RenderedMessage(subject=subject, text=text, html=html, language=language)
