"""The outgoing webhooks' tables (issue 16; migration 0003).

* ``webhook_subscriptions``: a receiver URL, the vault reference of its signing secret (the
  secret itself is Fernet ciphertext in ``vault_secrets``), the event types it wants and an
  optional request id; never deleted, only disabled, so its deliveries keep their history.
* ``webhook_events``: one row per status change that some subscription wanted. Its id is
  derived from the audit row's unique key (subject, to_status, at), so a retried activity
  that records the same change finds the same event.
* ``webhook_deliveries``: one row per (subscription, event), kept once by
  ``uq_webhook_delivery``: the state, attempts and last error that ``webhooks deliveries`` shows.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import UTCDateTime, utcnow


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: str = Field(primary_key=True, sa_type=sa.String(40), description="whs_<16 hex>")
    url: str = Field(sa_type=sa.String(2000))
    secret_ref: str = Field(sa_type=sa.String(36), description="vault reference of the signing secret")
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON())
    request_id: str | None = Field(default=None, sa_type=sa.String(32))
    owner: str = Field(sa_type=sa.String(320))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_events"

    id: str = Field(primary_key=True, sa_type=sa.String(40), description="evt_<24 hex>")
    type: str = Field(sa_type=sa.String(24))
    subject: str = Field(sa_type=sa.String(40))
    request_id: str = Field(sa_type=sa.String(32), index=True)
    order_id: str | None = Field(default=None, sa_type=sa.String(40))
    from_status: str | None = Field(default=None, sa_type=sa.String(32))
    to_status: str = Field(sa_type=sa.String(32))
    actor: str = Field(sa_type=sa.String(320))
    reason: str = Field(sa_type=sa.Text())
    occurred_at: datetime = Field(sa_type=UTCDateTime())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(sa_type=sa.String(40), foreign_key="webhook_subscriptions.id", index=True)
    event_id: str = Field(sa_type=sa.String(40), foreign_key="webhook_events.id", index=True)
    state: str = Field(sa_type=sa.String(16), index=True)
    attempts: int = Field(default=0)
    round: int = Field(default=0, description="0 the first delivery; n the n-th redelivery asked for")
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
