"""DocuSign authentication (JWT grant) and the call policy every SDK call goes through.

Why a policy layer around the SDK: ``docusign-esign`` raises ``ApiException`` for any
non-2xx answer and lets urllib3's network errors (``MaxRetryError``, ``ReadTimeoutError``,
``ProtocolError``) escape unwrapped; it sets no timeout unless ``_request_timeout`` is
passed, and silently ignores a *float* ``_request_timeout`` (only ``int`` or a 2-tuple
count). :class:`DocuSignSession` turns all of that into the interface's three errors,
waits out rate limits, retries 5xx and network errors with backoff, and refreshes the
access token once on 401.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import jwt
import urllib3
from docusign_esign import ApiClient
from docusign_esign.client.api_exception import ApiException, ArgumentException
from docusign_esign.client.api_response import RESTClientObject
from docusign_esign.client.configuration import Configuration

from core.settings import Settings
from providers.esign.base import ESignConfigError, ESignError, ESignRejected

log = logging.getLogger(__name__)

T = TypeVar("T")

SCOPES = ("signature", "impersonation")
JWT_ASSERTION_SECONDS = 3600  # DocuSign's maximum for the JWT assertion
TOKEN_MARGIN_SECONDS = 300  # renew the access token this long before it expires
# DocuSign's older rate-limit answers are HTTP 400 with these codes instead of 429.
RATE_LIMIT_CODES = {"HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "BURST_APIINVOCATION_LIMIT_EXCEEDED"}
NETWORK_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class DocuSignConfig:
    """What the session needs from settings, checked once with messages naming the setting."""

    integration_key: str
    user_id: str
    private_key: bytes = field(repr=False)
    oauth_host: str
    account_id: str = ""
    base_uri: str = ""
    ca_cert: str | None = None
    redirect_uri: str = "https://www.docusign.com"
    timeout: float = 30.0
    max_attempts: int = 4
    backoff: float = 1.0
    rate_limit_max_wait: float = 60.0

    @classmethod
    def from_settings(cls, s: Settings) -> DocuSignConfig:
        missing = [
            f"PORTFLOW_DOCUSIGN_{name.upper()}"
            for name, value in (("integration_key", s.docusign_integration_key), ("user_id", s.docusign_user_id))
            if not value.strip()
        ]
        key_file = s.docusign_private_key_file
        if key_file is not None and str(key_file).strip() in ("", "."):
            key_file = None  # an empty variable reads as Path(".")
        if s.docusign_private_key is None and key_file is None:
            missing.append("PORTFLOW_DOCUSIGN_PRIVATE_KEY_FILE (or PORTFLOW_DOCUSIGN_PRIVATE_KEY)")
        if missing:
            raise ESignConfigError("DocuSign is selected but these settings are empty: " + ", ".join(missing))
        if s.docusign_private_key is not None:
            # A PEM pasted into one environment variable often arrives with literal "\n".
            pem = s.docusign_private_key.get_secret_value().replace("\\n", "\n").encode()
        else:
            assert key_file is not None
            try:
                pem = key_file.read_bytes()
            except OSError as exc:
                raise ESignConfigError(f"cannot read PORTFLOW_DOCUSIGN_PRIVATE_KEY_FILE {key_file}: {exc.strerror}") from None
        if b"PRIVATE KEY" not in pem:
            raise ESignConfigError(
                "the DocuSign private key is not a PEM RSA private key (-----BEGIN RSA PRIVATE KEY-----): "
                "download it again from the integration key's page in DocuSign Apps and Keys"
            )
        host = s.docusign_oauth_host.strip().removeprefix("https://").rstrip("/")
        if not host:
            raise ESignConfigError("PORTFLOW_DOCUSIGN_OAUTH_HOST is empty: account-d.docusign.com (demo) or account.docusign.com")
        ca = s.docusign_ca_cert
        if ca is not None and not ca.is_file():
            raise ESignConfigError(f"PORTFLOW_DOCUSIGN_CA_CERT {ca} is not a file")
        return cls(
            integration_key=s.docusign_integration_key.strip(),
            user_id=s.docusign_user_id.strip(),
            private_key=pem,
            oauth_host=host,
            account_id=s.docusign_account_id.strip(),
            base_uri=s.docusign_base_uri.strip().rstrip("/").removesuffix("/restapi"),
            ca_cert=str(ca) if ca else None,
            redirect_uri=s.docusign_redirect_uri,
            timeout=s.docusign_timeout_seconds,
            max_attempts=s.docusign_max_attempts,
            backoff=s.docusign_backoff_seconds,
            rate_limit_max_wait=s.docusign_rate_limit_max_wait_seconds,
        )

    @property
    def consent_url(self) -> str:
        """The page the impersonated user (or an admin) opens once to grant consent."""
        return (
            f"https://{self.oauth_host}/oauth/auth?response_type=code&scope=signature%20impersonation"
            f"&client_id={self.integration_key}&redirect_uri={quote(self.redirect_uri, safe='')}"
        )


class _TimedRESTClient(RESTClientObject):
    """The SDK's REST client with a timeout on every request, also on the two the SDK makes
    without one (JWT grant, userinfo), and without urllib3's own silent retries, so that
    :meth:`DocuSignSession.call` is the only place that decides to try again."""

    def __init__(self, configuration: Configuration, timeout: float) -> None:
        super().__init__(configuration=configuration)
        self.timeout = (timeout, timeout)  # (connect, read): a float alone would be ignored
        self.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(total=0, redirect=False)

    def request(self, method, url, query_params=None, headers=None, body=None, post_params=None,  # type: ignore[no-untyped-def]
                _preload_content=True, _request_timeout=None):
        return super().request(method, url, query_params=query_params, headers=headers, body=body,
                               post_params=post_params, _preload_content=_preload_content,
                               _request_timeout=_request_timeout or self.timeout)


def error_body(exc: ApiException) -> dict[str, Any]:
    """DocuSign's JSON error body ({"errorCode", "message"} or {"error", ...}), or {}."""
    raw = exc.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": str(raw)[:300]}
    return data if isinstance(data, dict) else {}


def describe(exc: ApiException) -> str:
    body = error_body(exc)
    code = body.get("errorCode") or body.get("error") or exc.reason or "error"
    message = body.get("message") or body.get("error_description") or ""
    return f"HTTP {exc.status} {code}" + (f": {message}" if message else "")


def rate_limit_wait(exc: ApiException, now: float) -> float | None:
    """Seconds until the rate limit resets, from Retry-After or X-RateLimit-Reset (epoch)."""
    headers = exc.headers or {}
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return None


class DocuSignSession:
    """An authenticated SDK client for one DocuSign user and account, shared by threads."""

    def __init__(
        self,
        config: DocuSignConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_renew_at = 0.0
        self.account_id = config.account_id
        self.api_client = ApiClient(host=(config.base_uri or "https://invalid.local") + "/restapi",
                                    oauth_host_name=config.oauth_host)
        # Configuration() is a process-wide singleton: configure a copy, never the original.
        tls_config = copy.copy(Configuration())
        tls_config.ssl_ca_cert = config.ca_cert
        self.api_client.rest_client = _TimedRESTClient(tls_config, config.timeout)
        self._base_resolved = bool(config.base_uri and config.account_id)

    @property
    def timeout(self) -> tuple[float, float]:
        """The ``_request_timeout`` every SDK call passes: (connect, read) seconds."""
        return (self.config.timeout, self.config.timeout)

    # --- authentication ----------------------------------------------------------
    def ensure_auth(self) -> None:
        """A valid access token and a resolved account and REST base, or an ESignError."""
        with self._lock:
            if self._token is None or self._clock() >= self._token_renew_at:
                self._grant()
            if not self._base_resolved:
                self._resolve_account()

    def invalidate(self, token: str | None) -> None:
        """Forget ``token`` (DocuSign answered 401) unless another thread already renewed it."""
        with self._lock:
            if self._token == token:
                self._token = None

    @property
    def token(self) -> str | None:
        return self._token

    def _grant(self) -> None:
        c = self.config
        try:
            tok = self.api_client.request_jwt_user_token(
                c.integration_key, c.user_id, c.oauth_host, c.private_key, JWT_ASSERTION_SECONDS, list(SCOPES)
            )
        except ApiException as exc:
            raise self._grant_error(exc) from None
        except (ArgumentException, ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
            raise ESignConfigError(
                f"cannot sign the DocuSign JWT with the configured private key ({type(exc).__name__}): "
                "use the RSA private key generated for the integration key"
            ) from None
        lifetime = float(tok.expires_in or 3600)
        self._token = tok.access_token
        self._token_renew_at = self._clock() + lifetime - min(TOKEN_MARGIN_SECONDS, lifetime / 2)
        log.info("DocuSign access token obtained for user %s (valid %.0f s)", c.user_id, lifetime)

    def _grant_error(self, exc: ApiException) -> ESignError:
        c = self.config
        body = error_body(exc)
        if body.get("error") == "consent_required":
            return ESignConfigError(
                f"DocuSign user {c.user_id} has not granted consent to integration key {c.integration_key}. "
                f"Open this URL once, signed in as that user (or grant admin consent), and accept: {c.consent_url}"
            )
        if exc.status is None or exc.status == 0 or exc.status == 429 or exc.status >= 500:
            err = ESignError(f"DocuSign OAuth ({c.oauth_host}) failed: {describe(exc)}")
            err.api_exception = exc  # type: ignore[attr-defined]
            return err
        return ESignConfigError(
            f"DocuSign refused the JWT grant ({describe(exc)}): check PORTFLOW_DOCUSIGN_INTEGRATION_KEY, "
            "PORTFLOW_DOCUSIGN_USER_ID (the user's API GUID), the private key and PORTFLOW_DOCUSIGN_OAUTH_HOST"
        )

    def _resolve_account(self) -> None:
        """Account id and REST base URI from /oauth/userinfo, unless settings fix them."""
        assert self._token is not None
        try:
            info = self.api_client.get_user_info(self._token)
        except ApiException as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                raise ESignConfigError(f"DocuSign userinfo refused: {describe(exc)}") from None
            raise ESignError(f"DocuSign userinfo failed: {describe(exc)}") from None
        accounts = list(info.accounts or [])
        if self.config.account_id:
            chosen = next((a for a in accounts if a.account_id == self.config.account_id), None)
            if chosen is None:
                ids = ", ".join(f"{a.account_id} ({a.account_name})" for a in accounts) or "none"
                raise ESignConfigError(
                    f"DocuSign user {self.config.user_id} has no account {self.config.account_id}; "
                    f"PORTFLOW_DOCUSIGN_ACCOUNT_ID must be one of: {ids}"
                )
        else:
            chosen = next((a for a in accounts if str(a.is_default).lower() == "true"), None) or (
                accounts[0] if accounts else None
            )
            if chosen is None:
                raise ESignConfigError(f"DocuSign user {self.config.user_id} belongs to no account")
        base = self.config.base_uri or (chosen.base_uri or "").rstrip("/")
        if not base:
            raise ESignConfigError("DocuSign userinfo gave no base_uri: set PORTFLOW_DOCUSIGN_BASE_URI")
        self.account_id = chosen.account_id
        self.api_client.host = base + "/restapi"
        self._base_resolved = True
        log.info("DocuSign account %s at %s", self.account_id, base)

    # --- the call policy ---------------------------------------------------------
    def call(self, what: str, fn: Callable[[str], T]) -> T:
        """Run ``fn(account_id)`` (one or more SDK calls) under the policy: 401 -> new token
        and one more try; 429 -> wait for the reset (up to the cap); 5xx and network errors
        -> backoff, at most ``max_attempts`` tries; other 4xx -> :class:`ESignRejected`.

        ``fn`` must be safe to run again: the envelope creation passes a look-up-then-create.
        """
        c = self.config
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = self._token
            try:
                self.ensure_auth()
                token = self._token
                return fn(self.account_id)
            except ApiException as exc:
                if exc.status == 401 and not refreshed:
                    refreshed = True
                    attempt -= 1
                    log.info("DocuSign answered 401 to %s: renewing the access token", what)
                    self.invalidate(token)
                    continue
                wait, error = self._classify(what, exc, attempt)
            except ESignError as exc:
                api_exc = getattr(exc, "api_exception", None)
                if not exc.retryable:
                    raise
                wait = (rate_limit_wait(api_exc, time.time()) if api_exc is not None and api_exc.status == 429
                        else None)
                wait, error = (wait if wait is not None else self._backoff(attempt)), exc
            except NETWORK_ERRORS as exc:
                wait = self._backoff(attempt)
                error = ESignError(f"DocuSign did not answer {what}: {type(exc).__name__}: {_short(exc)}")
            if not error.retryable:
                raise error
            if attempt >= c.max_attempts:
                raise ESignError(f"{error} (gave up after {attempt} tries; retry later)")
            if wait > c.rate_limit_max_wait:
                raise ESignError(f"{error}; DocuSign asks to wait {wait:.0f} s, more than the "
                                 f"{c.rate_limit_max_wait:.0f} s we wait inside one call: retry later")
            log.warning("%s; try %d of %d in %.2f s", error, attempt + 1, c.max_attempts, wait)
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return self.config.backoff * (2 ** (attempt - 1))

    def _classify(self, what: str, exc: ApiException, attempt: int) -> tuple[float, ESignError]:
        status = exc.status or 0
        body = error_body(exc)
        if status == 429 or body.get("errorCode") in RATE_LIMIT_CODES:
            wait = rate_limit_wait(exc, time.time())
            return (wait if wait is not None else self._backoff(attempt)), ESignError(
                f"DocuSign rate limit reached during {what} ({describe(exc)})"
            )
        if status == 401:
            return 0.0, ESignConfigError(
                f"DocuSign refused a fresh access token for {what} ({describe(exc)}): check that user "
                f"{self.config.user_id} belongs to account {self.account_id} and may send envelopes"
            )
        if status == 0:  # the SDK wraps TLS failures as status 0
            if "CERTIFICATE_VERIFY_FAILED" in str(exc.reason):
                return 0.0, ESignConfigError(
                    f"TLS certificate check failed talking to DocuSign ({_short(exc.reason)}): "
                    "fix the system CA store or PORTFLOW_DOCUSIGN_CA_CERT"
                )
            return self._backoff(attempt), ESignError(f"DocuSign TLS error during {what}: {_short(exc.reason)}")
        if status >= 500 or status == 408:
            return self._backoff(attempt), ESignError(f"DocuSign failed {what}: {describe(exc)}")
        return 0.0, ESignRejected(f"DocuSign refused {what}: {describe(exc)}")


def _short(value: object, limit: int = 200) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
