"""Connecting to Temporal the same way everywhere (worker, CLI, API, demo, bench, tests).

:func:`data_converter` is the one place the data converter is built: the pydantic
converter, the AES-256-GCM payload codec (``portflow/codec.py``) and a failure converter
that encodes failure messages and stack traces too. :func:`client_options` adds that the
client's headers (the workflows' ``portflow-audit`` batches) go through the codec as well.
Nothing else creates a Temporal client (tests/test_one_converter.py).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio.client import Client, TLSConfig, WorkflowExecutionStatus
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from core.payload_keys import load_key_ring
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from temporalio.runtime import Runtime


def data_converter(settings: Settings | None = None, *, encode_failures: bool = True) -> DataConverter:
    """The pydantic converter with the payload codec (per ``PORTFLOW_PAYLOAD_KEYS``), failures
    encoded; with ``PORTFLOW_PAYLOAD_ENCRYPTION=false`` the plain pydantic converter.
    ``encode_failures=False`` is for the replayer only: its failures never leave the process,
    and encoded they would read "Encoded failure" instead of the nondeterminism they report
    (encoded failures in a history decode either way)."""
    from portflow.codec import AesGcmCodec

    s = settings or get_settings()
    if not s.payload_encryption:
        return pydantic_data_converter
    ring = load_key_ring(s.payload_keys.get_secret_value(), s.var_dir)
    if not encode_failures:
        return dataclasses.replace(pydantic_data_converter, payload_codec=AesGcmCodec(ring))
    return dataclasses.replace(pydantic_data_converter, payload_codec=AesGcmCodec(ring),
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def client_options(settings: Settings | None = None, *, encode_failures: bool = True) -> dict[str, Any]:
    """The keyword arguments every client is made with: the data converter, headers encoded."""
    s = settings or get_settings()
    return {"data_converter": data_converter(s, encode_failures=encode_failures),
            "header_codec_behavior": HeaderCodecBehavior.CODEC if s.payload_encryption else HeaderCodecBehavior.NO_CODEC}


def with_codec(client: Client, settings: Settings | None = None) -> Client:
    """The same connection as ``client`` with portflow's converter and header encoding: the
    SDK's test environments (``WorkflowEnvironment.start_*``) take a data converter but no
    header behaviour, so their fixtures wrap their client with this."""
    return Client(**{**client.config(), **client_options(settings)})


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


async def connect(settings: Settings | None = None, *, runtime: Runtime | None = None, **overrides: Any) -> Client:
    """A client per settings: address, namespace, TLS (mTLS cert/key, CA), API key and the
    data converter (:func:`client_options`). ``runtime``: the worker's, when it exports metrics
    (``portflow.probes``); ``overrides``: other ``Client.connect`` arguments (``address`` too)."""
    s = settings or get_settings()
    options: dict[str, Any] = {
        "namespace": s.temporal_namespace, "tls": tls_config(s),
        "api_key": s.temporal_api_key.get_secret_value() if s.temporal_api_key else None,
        "runtime": runtime, **client_options(s), **overrides,
    }
    address = options.pop("address", s.temporal_address)
    return await Client.connect(address, **options)


async def query_failure_message(client: Client, err: Exception) -> str:
    """The message of a failed query, decoded: with failures encoded, the server's text for
    a failed query is "Encoded failure"; the failure itself rides in the RPC error's details
    (a worker that lacks a key says which one there)."""
    from temporalio.api.errordetails.v1 import QueryFailedFailure
    from temporalio.service import RPCError

    rpc = err.__context__ if isinstance(err.__context__, RPCError) else err
    status = rpc.grpc_status if isinstance(rpc, RPCError) else None
    for detail in status.details if status else []:
        found = QueryFailedFailure()
        if detail.Unpack(found) and found.HasField("failure"):
            try:
                return str(await client.data_converter.decode_failure(found.failure))
            except Exception:  # noqa: BLE001 - undecodable here too: keep the server's words
                break
    return str(err)


async def execution_status(client: Client, workflow_id: str, timeout: timedelta) -> WorkflowExecutionStatus:
    """The status of ``workflow_id``'s latest run, read without decoding the run's search
    attributes (``describe()`` decodes them all, and the time-skipping test server hands
    Datetime ones back in a form the SDK cannot parse, which failed uploads at random).
    Raises the RPCError of the call (NOT_FOUND for no such workflow)."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    resp = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                         execution=WorkflowExecution(workflow_id=workflow_id)),
        retry=True, timeout=timeout)
    return WorkflowExecutionStatus(resp.workflow_execution_info.status)
