"""DocuSignESign driven through the real docusign-esign SDK against the local stand-in
(OAuth over TLS, REST v2.1): sending without duplicates, errors, status, void, download."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest

from models.esign import EnvelopeStatus
from models.request import DocumentKind
from providers.esign import esign_from_settings
from providers.esign.base import ESignConfigError, ESignError, ESignRejected
from providers.esign.docusign import (
    ANCHOR_DATE,
    ANCHOR_SIGN,
    CONNECT_EVENTS,
    MAX_TRANSACTION_ID,
    DocuSignESign,
    event_from_info,
    transaction_id_for,
)
from providers.esign.docusign_auth import DocuSignConfig, DocuSignSession
from store.documents import read_bytes
from tests.docusign_standin.fixtures import (  # noqa: F401 (fixtures)
    INTEGRATION_KEY,
    TIMEOUT,
    USER_ID,
    ds_env,
    loa_request,
    rsa_pair,
    saved_order,
    standin,
)
from tests.settings_helpers import use_settings


@pytest.fixture
def provider(ds_env) -> DocuSignESign:
    return DocuSignESign.from_settings(ds_env())


def only_envelope(standin):
    assert len(standin.envelopes) == 1, f"expected exactly one envelope, got {len(standin.envelopes)}"
    return next(iter(standin.envelopes.values()))


async def test_send_loa_creates_a_draft_then_sends_it_with_tabs_fields_and_connect(standin, ds_env, loa_request):
    provider = DocuSignESign.from_settings(ds_env(PUBLIC_URL="https://portflow.example.com/"))
    req = loa_request()
    info = await provider.send_loa(req)

    env = only_envelope(standin)
    assert info.envelope_id == env.envelope_id and info.status is EnvelopeStatus.SENT
    assert (info.signer_name, info.signer_email) == ("Bo Li", "bo@contoso.example")
    body = env.definition
    assert body["status"] == "created", "the envelope must be created as a draft, then sent"
    assert env.status == "sent"
    assert body["transactionId"] == transaction_id_for(req.idempotency_key)
    assert {f["name"]: (f["value"], f["show"]) for f in body["customFields"]["textCustomFields"]} == {
        "port_request_id": (req.request_id, "false"),
        "port_order_id": (req.order_id, "false"),
        "idempotency_key": (body["transactionId"], "false"),
    }
    tabs = body["recipients"]["signers"][0]["tabs"]
    assert [t["anchorString"] for t in tabs["signHereTabs"]] == [ANCHOR_SIGN]
    assert [t["anchorString"] for t in tabs["dateSignedTabs"]] == [ANCHOR_DATE]
    assert body["notification"] == {
        "useAccountDefaults": "false",
        "reminders": {"reminderEnabled": "true", "reminderDelay": "2", "reminderFrequency": "3"},
        "expirations": {"expireEnabled": "true", "expireAfter": "10", "expireWarn": "2"},
    }
    hook = body["eventNotification"]
    assert hook["url"] == "https://portflow.example.com/webhooks/docusign"
    assert (hook["deliveryMode"], hook["includeHMAC"], hook["requireAcknowledgment"]) == ("SIM", "true", "true")
    assert hook["events"] == list(CONNECT_EVENTS)
    assert hook["eventData"] == {"version": "restv2.1", "format": "json", "includeData": ["custom_fields", "recipients"]}
    # Look-up came before the create; the create was a POST, the send a PUT.
    ops = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in standin.log if "/restapi/" in p]
    assert ops[0] == ("GET", "envelopes") and ("POST", "envelopes") in ops
    assert ops.index(("GET", "envelopes")) < ops.index(("POST", "envelopes")) < ops.index(("PUT", env.envelope_id))


async def test_no_public_url_means_no_event_notification(standin, provider, loa_request):
    await provider.send_loa(loa_request())
    assert "eventNotification" not in only_envelope(standin).definition
    assert provider.poll_interval == timedelta(minutes=15)


async def test_the_same_key_twice_returns_the_first_envelope(standin, provider, loa_request):
    req = loa_request()
    first = await provider.send_loa(req)
    again = await provider.send_loa(req)
    assert again.envelope_id == first.envelope_id
    assert standin.calls["create"] == 1
    only_envelope(standin)


async def test_read_timeout_on_create_is_followed_by_look_up_not_a_second_envelope(standin, provider, loa_request):
    standin.fail("create", delay=TIMEOUT + 0.5)  # creates the envelope, answers too late
    info = await provider.send_loa(loa_request())
    env = only_envelope(standin)
    assert standin.calls["create"] == 1
    assert info.envelope_id == env.envelope_id and env.status == "sent"


async def test_crash_between_create_and_send_is_finished_by_the_next_attempt(standin, provider, loa_request):
    req = loa_request()
    standin.fail("update", status=503, body={"errorCode": "SERVICE_UNAVAILABLE"}, times=3)
    with pytest.raises(ESignError) as failed:
        await provider.send_loa(req)
    assert failed.value.retryable and "gave up after 3 tries" in str(failed.value)
    assert only_envelope(standin).status == "created"
    info = await provider.send_loa(req)  # the activity's next attempt
    assert info.status is EnvelopeStatus.SENT and standin.calls["create"] == 1
    only_envelope(standin)


async def test_rate_limit_waits_for_the_reset_then_succeeds(standin, provider, loa_request):
    reset = int(time.time()) + 1
    standin.fail("create", status=429, headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"},
                 body={"errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "message": "limit"})
    info = await provider.send_loa(loa_request())
    assert time.time() >= reset - 0.05, "did not wait for X-RateLimit-Reset"
    assert info.status is EnvelopeStatus.SENT and standin.calls["create"] == 2
    only_envelope(standin)


async def test_rate_limit_reset_too_far_away_is_a_retryable_error_without_waiting(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    standin.fail("get", status=429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(ESignError) as failed:
        await provider.get_status(info.envelope_id)
    assert failed.value.retryable and "3600" in str(failed.value)
    assert time.monotonic() - started < 1


async def test_server_errors_retry_with_backoff_then_give_up_retryable(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    standin.fail("get", status=500, body={"errorCode": "UNSPECIFIED_ERROR"})
    assert (await provider.get_status(info.envelope_id)).status is EnvelopeStatus.SENT
    before = standin.calls["get"]
    standin.fail("get", status=503, times=5)
    with pytest.raises(ESignError) as failed:
        await provider.get_status(info.envelope_id)
    assert failed.value.retryable and standin.calls["get"] - before == 3


async def test_network_errors_are_retryable(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    standin.stop()
    with pytest.raises(ESignError) as failed:
        await provider.get_status(info.envelope_id)
    assert failed.value.retryable and "did not answer" in str(failed.value)


async def test_invalid_request_is_rejected_not_retried(standin, provider, loa_request):
    from tests.docusign_standin.account import certificate_pdf

    req = loa_request(pdf=certificate_pdf("x", "nobody"))  # a PDF without the anchors
    with pytest.raises(ESignRejected) as failed:
        await provider.send_loa(req)
    assert not failed.value.retryable and "ANCHOR_TAB_STRING_NOT_FOUND" in str(failed.value)
    assert standin.calls["create"] == 1 and not standin.envelopes


async def test_missing_consent_stops_with_the_consent_url(standin, ds_env, loa_request):
    provider = DocuSignESign.from_settings(ds_env(DOCUSIGN_REDIRECT_URI="https://portflow.example.com/callback"))
    standin.consented.clear()
    with pytest.raises(ESignConfigError) as failed:
        await provider.send_loa(loa_request())
    assert not failed.value.retryable
    assert (f"https://{standin.host}/oauth/auth?response_type=code&scope=signature%20impersonation"
            f"&client_id={INTEGRATION_KEY}&redirect_uri=https%3A%2F%2Fportflow.example.com%2Fcallback") in str(failed.value)
    assert standin.calls["token"] == 1 and standin.calls["create"] == 0


async def test_token_is_cached_and_renewed_once_on_401(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    await provider.get_status(info.envelope_id)
    assert standin.calls["token"] == 1 and standin.calls["userinfo"] == 1
    standin.revoke_tokens()
    assert (await provider.get_status(info.envelope_id)).status is EnvelopeStatus.SENT
    assert standin.calls["token"] == 2
    standin.fail("get", status=401, times=2)
    with pytest.raises(ESignConfigError, match="fresh access token"):
        await provider.get_status(info.envelope_id)
    assert standin.calls["token"] == 3  # one renewal, not a loop


def test_token_is_renewed_shortly_before_it_expires(standin, ds_env):
    now = [1000.0]
    session = DocuSignSession(DocuSignConfig.from_settings(ds_env()), clock=lambda: now[0])
    standin.token_lifetime = 3600
    session.ensure_auth()
    now[0] += 3600 - 301
    session.ensure_auth()
    assert standin.calls["token"] == 1
    now[0] += 2  # within 5 minutes of expiry
    session.ensure_auth()
    assert standin.calls["token"] == 2 and standin.calls["userinfo"] == 1


def test_account_and_base_uri_from_userinfo_unless_set(standin, ds_env):
    session = DocuSignSession(DocuSignConfig.from_settings(ds_env()))
    session.ensure_auth()
    assert session.account_id == standin.account.account_id  # the default account
    assert session.api_client.host == standin.base_uri + "/restapi"

    pinned = DocuSignSession(DocuSignConfig.from_settings(ds_env(
        DOCUSIGN_ACCOUNT_ID=standin.account.account_id, DOCUSIGN_BASE_URI=standin.base_uri + "/restapi")))
    pinned.ensure_auth()
    assert standin.calls["userinfo"] == 1 and pinned.api_client.host == standin.base_uri + "/restapi"

    wrong = DocuSignSession(DocuSignConfig.from_settings(ds_env(DOCUSIGN_ACCOUNT_ID="no-such-account")))
    with pytest.raises(ESignConfigError, match=f"must be one of: .*{standin.account.account_id}"):
        wrong.ensure_auth()


def test_missing_settings_are_named(ds_env, monkeypatch):
    settings = ds_env(DOCUSIGN_INTEGRATION_KEY="", DOCUSIGN_USER_ID=" ", DOCUSIGN_PRIVATE_KEY_FILE="")
    with pytest.raises(ESignConfigError) as failed:
        esign_from_settings(settings)
    for name in ("PORTFLOW_DOCUSIGN_INTEGRATION_KEY", "PORTFLOW_DOCUSIGN_USER_ID", "PORTFLOW_DOCUSIGN_PRIVATE_KEY_FILE"):
        assert name in str(failed.value)
    with pytest.raises(ESignConfigError, match="EXPIRE_WARN_DAYS"):
        DocuSignESign.from_settings(ds_env(DOCUSIGN_EXPIRE_WARN_DAYS="10"))


async def test_private_key_pasted_into_one_variable_works(standin, ds_env, rsa_pair, loa_request, monkeypatch):
    ds_env(DOCUSIGN_PRIVATE_KEY_FILE="")
    settings = use_settings(monkeypatch, DOCUSIGN_PRIVATE_KEY=rsa_pair[0].decode().replace("\n", "\\n"))
    assert (await esign_from_settings(settings).send_loa(loa_request())).status is EnvelopeStatus.SENT


async def test_long_idempotency_keys_become_a_bounded_transaction_id(standin, provider, loa_request):
    key = "PR-2026-0042-1/send-loa/" + "x" * 200
    tid = transaction_id_for(key)
    assert len(tid) <= MAX_TRANSACTION_ID and tid == transaction_id_for(key) and tid != transaction_id_for(key + "y")
    await provider.send_loa(loa_request(key))
    assert only_envelope(standin).transaction_id == tid


async def test_signing_observed_by_polling_then_documents_downloaded(standin, provider, loa_request):
    req = loa_request()
    info = await provider.send_loa(req)
    standin.open(info.envelope_id)
    assert (await provider.get_status(info.envelope_id)).status is EnvelopeStatus.DELIVERED
    with pytest.raises(ESignRejected, match="not completed"):
        await provider.download_signed(info.envelope_id, request_id=req.request_id, order_id=req.order_id)
    standin.sign(info.envelope_id)
    done = await provider.get_status(info.envelope_id)
    assert done.status is EnvelopeStatus.COMPLETED and done.signed_at is not None
    event = event_from_info(done, req.order_id)
    assert event.event_id == event_from_info(await provider.get_status(info.envelope_id), req.order_id).event_id

    docs = await provider.download_signed(info.envelope_id, request_id=req.request_id, order_id=req.order_id)
    env = standin.envelopes[info.envelope_id]
    assert docs.signed_loa.kind is DocumentKind.SIGNED_LOA and docs.certificate.kind is DocumentKind.CERTIFICATE
    assert docs.signed_loa.sha256 == hashlib.sha256(env.signed_pdf).hexdigest()  # combined, without certificate
    assert docs.certificate.sha256 == hashlib.sha256(env.certificate).hexdigest()
    assert read_bytes(docs.signed_loa) == env.signed_pdf and docs.signed_loa.order_id == req.order_id


async def test_decline_then_corrected_signer_gets_a_second_envelope(standin, provider, loa_request):
    first_req = loa_request()
    first = await provider.send_loa(first_req)
    standin.decline(first.envelope_id, "I am not the account holder")
    declined = await provider.get_status(first.envelope_id)
    assert declined.status is EnvelopeStatus.DECLINED and declined.reason == "I am not the account holder"

    corrected = loa_request(f"{first_req.order_id}/send-loa/2", signer_email="owner@contoso.example",
                            order=(first_req.request_id, first_req.order_id))
    second = await provider.send_loa(corrected)
    assert second.envelope_id != first.envelope_id and second.signer_email == "owner@contoso.example"
    assert sorted(e.status for e in standin.envelopes.values()) == ["declined", "sent"]


async def test_expiry_is_reported_as_expired_and_void_leaves_it(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    standin.expire(info.envelope_id)
    expired = await provider.get_status(info.envelope_id)
    assert expired.status is EnvelopeStatus.EXPIRED and expired.reason == "Envelope has expired."
    updates = standin.calls["update"]
    assert (await provider.void(info.envelope_id, "cancelled")).status is EnvelopeStatus.EXPIRED
    assert standin.calls["update"] == updates


async def test_bounced_mail_is_reported(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    standin.bounce(info.envelope_id)
    bounced = await provider.get_status(info.envelope_id)
    assert bounced.status is EnvelopeStatus.BOUNCED and "bo@contoso.example" in bounced.reason


async def test_void_on_cancel_and_voiding_again_or_after_completion_is_fine(standin, provider, loa_request):
    info = await provider.send_loa(loa_request())
    voided = await provider.void(info.envelope_id, "Port request cancelled by the customer")
    assert voided.status is EnvelopeStatus.VOIDED and voided.reason == "Port request cancelled by the customer"
    assert standin.envelopes[info.envelope_id].status == "voided"
    assert (await provider.void(info.envelope_id, "again")).status is EnvelopeStatus.VOIDED

    signed = await provider.send_loa(loa_request())
    standin.sign(signed.envelope_id)
    assert (await provider.void(signed.envelope_id, "too late")).status is EnvelopeStatus.COMPLETED
    assert standin.envelopes[signed.envelope_id].status == "completed"


async def test_void_of_a_left_over_draft_deletes_it(standin, provider, loa_request):
    standin.fail("update", status=503, times=3)
    with pytest.raises(ESignError):
        await provider.send_loa(loa_request())
    draft = only_envelope(standin)
    voided = await provider.void(draft.envelope_id, "cancelled")
    assert voided.status is EnvelopeStatus.VOIDED and draft.status == "deleted"
