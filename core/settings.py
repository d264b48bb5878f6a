"""All of portflow's settings, read from ``PORTFLOW_*`` environment variables or ``.env``.

Every field here is documented in the README's settings table with its default. Secrets
(DocuSign key, Telnyx key, SMTP password, webhook keys) have no usable default.
"""

from __future__ import annotations

import os
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


# How long an order may sit in a status before it is escalated to ops (issue: SLA escalations).
DEFAULT_SLA_HOURS: dict[str, int] = {
    "LOA_SENT": 120,  # five days unsigned
    "LOA_DECLINED": 24,  # the PM has not corrected the signer
    "SUBMITTED": 72,  # the carrier has not even acknowledged
    "CARRIER_PENDING": 120,  # no FOC after five days
    "SUPPLEMENT": 72,
    "EXCEPTION": 48,  # an exception nobody fixed
    "SNAPBACK": 1,  # P1: hourly updates until resolved
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PORTFLOW_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------
    var_dir: Path = Field(default=ROOT / "var", description="Runtime files: database, documents, outbox")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means sqlite:///<var_dir>/portflow.db"
    )
    db_auto_migrate: bool = Field(
        default=True, description="Apply pending migrations on first use of the default database"
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Vault key (Fernet key or 32+ char random string); empty: <var_dir>/vault.key, made once",
    )
    max_document_mb: float = Field(default=10, gt=0, description="Largest document accepted, in MB")

    # --- Temporal ------------------------------------------------------------------
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "portflow"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_tls_ca: Path | None = Field(
        default=None, description="PEM of the CA that signed a self-hosted server's certificate; empty: system CAs"
    )
    temporal_tls_server_name: str = Field(default="", description="TLS server name when it differs from the address's host")
    temporal_ui_url: str = "http://localhost:8233"
    # Payload encryption (issue 14): portflow/codec.py, core/payload_keys.py, README "Encryption".
    payload_encryption: bool = Field(
        default=True, description="Encrypt every payload portflow stores in Temporal (AES-256-GCM); false only to "
        "measure or debug: then customer data is stored in clear",
    )
    payload_keys: SecretStr = Field(
        default=SecretStr(""), description="Payload keys, id:base64key,... current first, or a key file's path; "
        "empty: <var_dir>/payload.key, made once",
    )
    codec_token: SecretStr = Field(
        default=SecretStr(""), description="Bearer token the codec server (/codec/*) requires; empty: the codec "
        "server refuses every call",
    )
    codec_cors_origin: str = Field(
        default="", description="Browser origin allowed to call the codec server; empty: PORTFLOW_TEMPORAL_UI_URL",
    )
    search_customer_name: bool = Field(
        default=True, description="Set the CustomerName search attribute (stored in clear by Temporal); false "
        "leaves it out",
    )
    # --- the worker process in production (docs/deploy.md) ------------------------------
    metrics_port: int = Field(
        default=0, ge=0, le=65535, description="Serve the SDK's Prometheus metrics on this port (0: off)"
    )
    health_port: int = Field(
        default=0, ge=0, le=65535,
        description="Serve GET /healthz on this port: 200 while the worker reaches Temporal, else 503 (0: off)",
    )
    probe_host: str = Field(default="127.0.0.1", description="Address the metrics and health ports bind (0.0.0.0 in a container)")
    worker_shutdown_seconds: int = Field(
        default=10, ge=0, description="On SIGTERM, how long running activities may finish before they are cancelled"
    )
    carrier_calls_per_second: float = Field(
        default=5.0, gt=0, description="Most carrier API calls per second, all workers together (the queue's rate limit)"
    )
    # Worker Versioning (docs/upgrades.md): the worker is one version (build) of a Worker Deployment.
    worker_versioning: bool = Field(
        default=True,
        description="Run the worker as a version of a Worker Deployment; false for servers without "
        "deployments (the time-skipping test server: the tests turn it off)",
    )
    worker_deployment_name: str = Field(
        default="portflow", min_length=1, description="The Worker Deployment this worker is a version of"
    )
    worker_build_id: str = Field(
        default="", description="This worker's build id in the deployment (e.g. the git commit); empty: "
        "portflow-<package version>",
    )

    # --- porting rules -------------------------------------------------------------
    lead_time_days: int = Field(default=21, ge=0, description="Calendar days between documents complete and port date")
    max_range_size: int = Field(default=1000, ge=1, description="Largest number range accepted in one entry")
    max_numbers_per_request: int = Field(
        default=10_000, ge=1, le=100_000, description="Most numbers one request may port (split a larger one)"
    )
    porting_holidays: list[date] = Field(default_factory=list, description="Extra non-porting days (JSON list of dates)")
    maintenance_timezone: str = "America/Denver"
    default_time_zone: str = "America/New_York"
    default_activation_time: time = Field(
        default=time(9, 0), description="Local activation time on the port date when a request gives none"
    )
    foc_guard_hours: int = Field(default=48, ge=0, description="No supplement or cancel this close to the FOC")
    gate_warn_business_days: int = Field(
        default=2, ge=1, le=20, description="Warn the PM and ops when a port's go-live gate is not ready this many "
        "business days before the FOC (a request's go_live.warn_business_days overrides it)")
    review_before_submit: bool = Field(default=False, description="A PM approves each order before carrier submission")
    verification: Literal["pm", "auto"] = Field(
        default="pm", description="After activation: the PM confirms test calls (pm) or the routing check decides (auto)"
    )

    # --- support cases after go-live (seed 003) ---------------------------------------
    support_timezone: str = Field(
        default="America/Denver", description="Where the support day's business hours are counted (P3/P4 targets)"
    )
    support_hours_start: time = Field(default=time(8, 0), description="Support business hours open (local)")
    support_hours_end: time = Field(default=time(17, 0), description="Support business hours close (local)")
    case_reopen_days: int = Field(
        default=7, ge=0, le=365, description="Calendar days a resolved case may be reopened before it closes"
    )
    case_continue_after_events: int = Field(
        default=10_000, ge=20, description="A support case's history length that starts a new run (continue-as-new)"
    )

    # --- reminders and deadlines (workflow timers) ---------------------------------
    document_reminder_days: list[int] = Field(
        default_factory=lambda: [7, 3, 1], description="Days before the documents due date to remind the contact"
    )
    loa_reminder_hours: int = Field(default=24, ge=1)
    inventory_deadline_hours: int = Field(default=24, ge=1, description="Numbers in inventory after FOC within")
    carrier_silence_hours: int = Field(default=48, ge=1, description="Remind the PM when the carrier says nothing for")
    carrier_poll_seconds: int = Field(default=3600, ge=1, description="Carrier status poll interval")
    carrier_foc_poll_seconds: int = Field(
        default=6 * 3600, ge=1, description="Carrier poll interval once the FOC is confirmed (watching for FOC moves)"
    )
    history_events_limit: int = Field(
        default=2000, ge=0,
        description="An order continues as new past this many history events (0: only when Temporal suggests it)",
    )
    sla_hours: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_SLA_HOURS),
        description="SLA: hours an order may stay in a status before ops are alerted (JSON, status -> hours)",
    )

    # --- reminder sweep (issue 6): a Temporal Schedule, see portflow/schedules.py -------
    reminder_schedule_id: str = Field(
        default="portflow-reminders", min_length=1, description="Id of the Temporal Schedule that runs the reminder sweep"
    )
    reminder_time: time = Field(default=time(9, 0), description="Local time of the reminder sweep, every business day")
    reminder_time_zone: str = Field(
        default="America/New_York", description="IANA time zone of PORTFLOW_REMINDER_TIME and of the sweep's business days"
    )
    reminder_catchup_hours: int = Field(
        default=4, ge=1, description="A sweep missed while Temporal was down still runs if it is at most this late"
    )
    reminder_documents_margin_days: int = Field(
        default=7, ge=0, description="Remind about missing documents when the port date is within the lead time plus this"
    )
    reminder_loa_unsigned_days: int = Field(
        default=3, ge=1, description="Remind when an LOA is still unsigned this many days after it was sent"
    )
    reminder_no_foc_business_days: int = Field(
        default=3, ge=1, description="Tell the PM when the carrier has given no FOC this many business days after submission"
    )
    reminder_unassigned_business_days: int = Field(
        default=3, ge=0, description="Remind to assign numbers when the port date is at most this many business days away"
    )

    @field_validator("worker_deployment_name", "worker_build_id")
    @classmethod
    def _deployment_names(cls, value: str, info) -> str:  # noqa: ANN001
        value = value.strip()
        if "." in value and info.field_name == "worker_deployment_name":
            raise ValueError(f"'{value}' contains a dot, which Temporal uses between a deployment's name and a "
                             "build id: use letters, digits, '-' or '_' (e.g. portflow-eu)")
        if len(value) > 255:
            raise ValueError("is longer than Temporal's 255 characters: use a shorter name (e.g. the short git commit)")
        return value

    @field_validator("reminder_time")
    @classmethod
    def _local_time(cls, v: time) -> time:
        if v.tzinfo is not None:
            raise ValueError(
                f"PORTFLOW_REMINDER_TIME {v.isoformat()} must be a local time such as 09:00, "
                "without an offset: the zone is PORTFLOW_REMINDER_TIME_ZONE"
            )
        return v

    @field_validator("support_hours_end")
    @classmethod
    def _support_day(cls, v: time, info: ValidationInfo) -> time:
        start = info.data.get("support_hours_start")
        if start is not None and not start < v:
            raise ValueError(f"PORTFLOW_SUPPORT_HOURS_END {v.isoformat()} must be after PORTFLOW_SUPPORT_HOURS_START "
                             f"{start.isoformat()} (support hours within one day, e.g. 08:00 to 17:00)")
        return v

    @field_validator("support_timezone")
    @classmethod
    def _support_zone(cls, v: str) -> str:
        from core.calendar import zone

        try:
            zone(v.strip())
        except ValueError as exc:
            raise ValueError(f"PORTFLOW_SUPPORT_TIMEZONE: {exc}") from None
        return v.strip()

    @field_validator("reminder_time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from core.calendar import zone

        try:
            zone(v.strip())
        except ValueError as exc:
            raise ValueError(f"PORTFLOW_REMINDER_TIME_ZONE: {exc}") from None
        return v.strip()

    # --- providers -----------------------------------------------------------------
    esign_provider: Literal["local", "docusign"] = "local"
    carrier_provider: Literal["simulator", "manual", "telnyx"] = Field(
        default="simulator", description="simulator (local default), manual (PM enters orders) or telnyx"
    )
    notify_channels: list[str] = Field(default_factory=lambda: ["outbox"], description="outbox, smtp, teams, slack")
    auto_sign: bool = Field(default=False, description="Local e-signature signs at once (demo only)")
    esign_local_faults: str = Field(
        default="", description='Fault drills of the local e-signature (JSON, e.g. {"rate": 0.3, "seed": 7}; python -m faults)'
    )

    # --- people --------------------------------------------------------------------
    gaining_provider: str = Field(
        default="portflow", min_length=1, description="Our name as the gaining provider, printed on the LOA"
    )
    pm_email: str = "pm@portflow.local"
    ops_email: str = "ops@portflow.local"
    mail_from: str = "portflow <noreply@portflow.local>"

    # --- DocuSign (issue 4) --------------------------------------------------------
    docusign_integration_key: str = ""
    docusign_user_id: str = ""
    docusign_account_id: str = ""
    docusign_private_key_file: Path | None = None
    docusign_private_key: SecretStr | None = None
    docusign_oauth_host: str = "account-d.docusign.com"
    docusign_base_uri: str = ""
    docusign_ca_cert: Path | None = None
    docusign_hmac_keys: list[SecretStr] = Field(default_factory=list)
    docusign_reminder_delay_days: int = 1
    docusign_reminder_frequency_days: int = 2
    docusign_expire_after_days: int = 14
    docusign_expire_warn_days: int = 3
    docusign_timeout_seconds: float = 30.0
    docusign_poll_minutes: int = Field(default=15, ge=15)
    docusign_redirect_uri: str = Field(
        default="https://www.docusign.com",
        description="Redirect URI registered on the integration key; used in the consent URL",
    )
    docusign_max_attempts: int = Field(default=4, ge=1, description="Tries per DocuSign call on 5xx/network errors")
    docusign_backoff_seconds: float = Field(default=1.0, ge=0, description="First retry delay; doubles each try")
    docusign_rate_limit_max_wait_seconds: float = Field(
        default=60.0, ge=0, description="Longest wait for a rate-limit reset; longer: retryable error"
    )
    public_url: str = Field(default="", description="Public base URL of the api/ service for webhooks")

    # --- carrier APIs (issue 5) ----------------------------------------------------
    telnyx_api_key: SecretStr | None = Field(default=None, description="Telnyx API v2 key (Bearer); required by the telnyx carrier")
    telnyx_base_url: str = Field(default="https://api.telnyx.com/v2", description="Telnyx API base URL")
    telnyx_public_key: str = Field(
        default="", description="Telnyx account public key (base64 Ed25519) that signs porting webhooks"
    )
    simulator_profile: str = Field(default="", description="Path to a YAML of per-carrier simulator behaviour")
    telnyx_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one Telnyx API call")
    telnyx_webhook_tolerance_seconds: int = Field(
        default=300, ge=1, description="Refuse Telnyx webhooks whose signed timestamp is further off than this"
    )

    # --- notifications (issue 6) ---------------------------------------------------
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    teams_webhook_url: str = ""
    slack_webhook_url: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Connect and command timeout at the SMTP relay")
    smtp_ca_cert: Path | None = Field(
        default=None, description="PEM file of the CA that signed the SMTP relay's certificate; empty: system CAs"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of a Teams or Slack webhook post")

    @field_validator("notify_channels")
    @classmethod
    def _known_channels(cls, v: list[str]) -> list[str]:
        known = ("outbox", "smtp", "teams", "slack")
        names = list(dict.fromkeys(name.strip().lower() for name in v))
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise ValueError(
                f"PORTFLOW_NOTIFY_CHANNELS: {'unknown channel ' + repr(unknown[0]) if unknown else 'no channel'}; "
                f'give a JSON list of {", ".join(known)}, e.g. ["outbox", "smtp"]'
            )
        return names

    @field_validator("sla_hours")
    @classmethod
    def _sla_shape(cls, v: dict[str, int]) -> dict[str, int]:
        # Settings sit below the models, so whether a key names a port status is checked where
        # the statuses are known: portflow.ports.options_from_settings.
        out = {}
        for name, hours in v.items():
            key = name.strip().upper()
            if not key:
                raise ValueError('PORTFLOW_SLA_HOURS: a status name is empty; use e.g. {"LOA_SENT": 120, "EXCEPTION": 48}')
            if hours < 1:
                raise ValueError(f"PORTFLOW_SLA_HOURS: {key} must be at least 1 hour, not {hours}")
            out[key] = hours
        return out

    # --- API service ---------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # --- customer self-service page (issue 16): api/customer.py, README "Customer page" -----
    customer_link_secret: SecretStr = Field(
        default=SecretStr(""), description="HMAC-SHA256 key that signs customer links (changing it voids every "
        "link); empty: derived from the vault key (PORTFLOW_SECRET_KEY or <var_dir>/vault.key)",
    )
    customer_link_days: int = Field(default=30, ge=1, le=365, description="Days a customer link stays valid")
    customer_uploads_per_window: int = Field(
        default=10, ge=1, description="Most uploads through one request's customer links per window (then 429)"
    )
    customer_upload_window_minutes: int = Field(default=10, ge=1, description="The upload rate limit's window")

    @property
    def customer_base_url(self) -> str:
        """Where customer links point: PORTFLOW_PUBLIC_URL, else this API service's own address."""
        if self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        host = "localhost" if self.api_host in ("127.0.0.1", "0.0.0.0", "::", "") else self.api_host
        return f"http://{host}:{self.api_port}"

    # --- outgoing webhooks (issue 16) ---------------------------------------------------
    outgoing_webhook_max_attempts: int = Field(
        default=12, ge=1, le=100, description="Tries per outgoing webhook delivery before it is failed")
    outgoing_webhook_first_retry_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="First retry delay of a delivery; doubles each try, at most 1 h apart")
    outgoing_webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long a subscriber's receiver may take to answer one try")

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v if v.is_absolute() else (Path.cwd() / v)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'portflow.db'}"

    @property
    def documents_dir(self) -> Path:
        return self.var_dir / "documents"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"


def secrets_dir() -> Path | None:
    """``PORTFLOW_SECRETS_DIR``: a folder of secret files, one per setting, named as the setting in
    lower case (``portflow_secret_key``, ``portflow_temporal_api_key``): Docker and Kubernetes
    secrets mounted as files, never in the environment. The environment still wins over a file."""
    raw = os.environ.get("PORTFLOW_SECRETS_DIR", "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ValueError(f"PORTFLOW_SECRETS_DIR={raw} is not a folder: mount the secrets there or unset it")
    return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    folder = secrets_dir()
    return Settings(_secrets_dir=folder) if folder else Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()


ACTIVATION_DEFAULT = time(9, 0)
