"""Connecting to Temporal the same way everywhere (worker, CLI, API, tests)."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings, get_settings


async def connect(settings: Settings | None = None) -> Client:
    """A client per settings: address, namespace, TLS (mTLS cert/key) and API key."""
    s = settings or get_settings()
    tls: TLSConfig | bool = False
    if s.temporal_tls_cert and s.temporal_tls_key:
        tls = TLSConfig(
            client_cert=s.temporal_tls_cert.read_bytes(), client_private_key=s.temporal_tls_key.read_bytes()
        )
    elif s.temporal_tls or s.temporal_api_key:
        tls = True
    return await Client.connect(
        s.temporal_address,
        namespace=s.temporal_namespace,
        tls=tls,
        api_key=s.temporal_api_key.get_secret_value() if s.temporal_api_key else None,
        data_converter=pydantic_data_converter,
    )
