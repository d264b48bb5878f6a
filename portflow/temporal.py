"""Connecting to Temporal the same way everywhere (worker, CLI, API, tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from temporalio.runtime import Runtime


class ConnectionSettingsError(ValueError):
    """A TLS setting names a file that cannot be read; the message says which."""


def _read(setting: str, path) -> bytes:  # noqa: ANN001
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConnectionSettingsError(f"{setting}={path}: cannot read it ({exc.strerror}); "
                                      "mount the file there or fix the path") from None


def tls_config(s: Settings) -> TLSConfig | bool:
    """mTLS (cert and key, Temporal Cloud or a self-hosted server), server TLS (a CA or
    ``PORTFLOW_TEMPORAL_TLS``; an API key implies TLS) or none."""
    if bool(s.temporal_tls_cert) != bool(s.temporal_tls_key):
        raise ConnectionSettingsError("PORTFLOW_TEMPORAL_TLS_CERT and PORTFLOW_TEMPORAL_TLS_KEY go together: "
                                      "set both (mTLS client certificate and its key) or neither")
    ca = _read("PORTFLOW_TEMPORAL_TLS_CA", s.temporal_tls_ca) if s.temporal_tls_ca else None
    name = s.temporal_tls_server_name.strip() or None
    if s.temporal_tls_cert and s.temporal_tls_key:
        return TLSConfig(client_cert=_read("PORTFLOW_TEMPORAL_TLS_CERT", s.temporal_tls_cert),
                         client_private_key=_read("PORTFLOW_TEMPORAL_TLS_KEY", s.temporal_tls_key),
                         server_root_ca_cert=ca, domain=name)
    if ca or name:
        return TLSConfig(server_root_ca_cert=ca, domain=name)
    return bool(s.temporal_tls or s.temporal_api_key)


async def connect(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Client:
    """A client per settings: address, namespace, TLS (mTLS cert/key, CA) and API key.
    ``runtime``: the worker's, when it exports metrics (``portflow.probes``)."""
    s = settings or get_settings()
    return await Client.connect(
        s.temporal_address,
        namespace=s.temporal_namespace,
        tls=tls_config(s),
        api_key=s.temporal_api_key.get_secret_value() if s.temporal_api_key else None,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
