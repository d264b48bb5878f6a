"""Teams and Slack incoming webhooks against a real local HTTP receiver."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from providers.notify.webhooks import SLACK_SECTION_LIMIT, SlackChannel, TeamsChannel, WebhookError
from tests.providers.notify_samples import CONTEXTS, CUSTOMER, sample_note
from tests.providers.notify_servers import closed_port, webhook_receiver


def _settings(var_dir: Path, url: str) -> Settings:
    return Settings(
        var_dir=var_dir,
        teams_webhook_url=f"{url}/teams/abc-secret",
        slack_webhook_url=f"{url}/services/T0/B0/xyz-secret",
        webhook_timeout_seconds=5,
    )


async def test_teams_gets_an_adaptive_card(var_dir: Path) -> None:
    note = sample_note("activation_failed", priority="P1")
    with webhook_receiver() as rx:
        delivery = await TeamsChannel(_settings(var_dir, rx.url)).deliver(note)
    assert len(rx.posts) == 1
    post = rx.posts[0]
    assert post.path == "/teams/abc-secret"
    assert post.headers["Content-Type"] == "application/json"
    attachment = post.body["attachments"][0]
    assert post.body["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    title = card["body"][0]
    assert (
        title["text"].startswith("P1: activation failed for Acme Dental")
        and title["color"] == "Attention"
    )
    texts = "\n".join(b["text"] for b in card["body"] if b["type"] == "TextBlock")
    assert "initial response within 15 minutes, then updates every hour" in texts
    assert "- (415) 555-0123" in texts
    facts = {f["title"]: f["value"] for f in card["body"][-1]["facts"]}
    assert facts == {"Request": "PR-2026-0042", "Order": "PR-2026-0042-1", "Priority": "P1"}
    assert (
        card["actions"][0]["url"]
        == "http://localhost:8233/namespaces/default/workflows/PR-2026-0042-1"
    )
    # The webhook URL carries its credential: never in the delivery record.
    assert delivery.location == f"{rx.url}/..." and "secret" not in delivery.model_dump_json()


async def test_slack_gets_text_and_blocks(var_dir: Path) -> None:
    ctx = {**CONTEXTS["escalation"], "reason": "Carrier says <SV_CONFLICT> & waits"}
    note = sample_note("escalation", priority="P2", context=ctx)
    with webhook_receiver() as rx:
        delivery = await SlackChannel(_settings(var_dir, rx.url)).deliver(note)
    body = rx.posts[0].body
    assert rx.posts[0].path == "/services/T0/B0/xyz-secret"
    assert body["text"].startswith("[P2] P2 escalation for Acme Dental")
    assert "&lt;SV_CONFLICT&gt; &amp; waits" in body["text"]
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds[0] == "header" and kinds[-1] == "context" and "section" in kinds
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    sections = "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert "Priority: P2 (initial response within 30 minutes, updates every 2 hours)" in sections
    assert "<SV_CONFLICT>" not in sections
    assert (
        "<http://localhost:8233/namespaces/default/workflows/PR-2026-0042-1|Temporal UI>"
        in (body["blocks"][-1]["elements"][0]["text"])
    )
    assert delivery.channel == "slack" and "secret" not in (delivery.location or "")


async def test_slack_splits_long_text_into_sections_within_the_limit(var_dir: Path) -> None:
    ports = [
        f"PR-2026-{i:04d} Customer {i}: LOA unsigned for {i % 9} days, port date 2026-05-{i % 28 + 1:02d}"
        for i in range(120)
    ]
    note = sample_note("digest", context={"digest_date": "2026-03-23", "ports": ports})
    with webhook_receiver() as rx:
        await SlackChannel(_settings(var_dir, rx.url)).deliver(note)
    sections = [b["text"]["text"] for b in rx.posts[0].body["blocks"] if b["type"] == "section"]
    assert len(sections) > 1 and all(len(s) <= SLACK_SECTION_LIMIT for s in sections)
    joined = "\n".join(sections)
    assert all(p in joined for p in ports)


@pytest.mark.parametrize(
    ("status", "headers", "retryable"),
    [
        (429, {"Retry-After": "30"}, True),
        (500, {}, True),
        (503, {}, True),
        (404, {}, False),
        (400, {}, False),
        (410, {}, False),
    ],
)
async def test_failures_are_sorted_into_retryable_and_permanent(
    var_dir: Path, status: int, headers: dict[str, str], retryable: bool
) -> None:
    with webhook_receiver() as rx:
        rx.answers.append((status, "channel_not_found" if status == 404 else "busy", headers))
        with pytest.raises(WebhookError) as info:
            await SlackChannel(_settings(var_dir, rx.url)).deliver(sample_note("digest"))
    assert info.value.retryable is retryable and info.value.status == status
    assert f"answered {status}" in str(info.value) and "secret" not in str(info.value)
    if status == 429:
        assert "retry after 30 s" in str(info.value)


async def test_an_unreachable_webhook_is_retryable(var_dir: Path) -> None:
    settings = _settings(var_dir, f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(WebhookError, match="unreachable") as info:
        await TeamsChannel(settings).deliver(sample_note("carrier_silent"))
    assert info.value.retryable is True and "secret" not in str(info.value)


async def test_customer_mail_never_goes_to_chat(var_dir: Path) -> None:
    with webhook_receiver() as rx:
        with pytest.raises(WebhookError, match="only notes for PMs and ops") as info:
            await TeamsChannel(_settings(var_dir, rx.url)).deliver(
                sample_note("foc_confirmed", to=CUSTOMER)
            )
    assert info.value.retryable is False
    assert rx.posts == []


def test_a_missing_or_bad_webhook_url_is_a_configuration_error(var_dir: Path) -> None:
    with pytest.raises(WebhookError, match="PORTFLOW_TEAMS_WEBHOOK_URL is empty"):
        TeamsChannel(Settings(var_dir=var_dir))
    with pytest.raises(WebhookError, match="PORTFLOW_SLACK_WEBHOOK_URL is not an http"):
        SlackChannel(Settings(var_dir=var_dir, slack_webhook_url="hooks.slack.com/services/x"))
