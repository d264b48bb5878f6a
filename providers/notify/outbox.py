"""The outbox: every message as an ``.eml`` file under ``<var_dir>/outbox``.

The local default and what the demo shows: a PM can open each file in any mail client, and
tests can parse them. Files are written atomically (temp file, fsync, rename), so a reader
never sees half a message, and named ``<UTC timestamp>-<template>-<hash(key)>.eml`` so they
sort by time and a key's file can be found again: a second delivery of the same key finds
the first file and writes nothing, even if the ledger entry was lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from core.settings import Settings, get_settings
from models.notify import Delivery, Notification
from providers.notify.base import Channel, NotifyError
from providers.notify.mail import build_email, key_hash
from providers.notify.render import render

log = logging.getLogger("portflow.notify.outbox")


class OutboxChannel(Channel):
    name = "outbox"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.directory: Path = self.settings.outbox_dir

    def existing(self, key: str) -> Path | None:
        """The file already written for ``key``, if any."""
        matches = sorted(self.directory.glob(f"*-{key_hash(key)}.eml"))
        return matches[0] if matches else None

    async def deliver(self, note: Notification) -> Delivery:
        rendered = render(note, self.settings)
        msg = build_email(note, rendered, self.settings)
        return await asyncio.to_thread(
            self._write, note, msg.as_bytes(policy=policy.SMTP), msg["Message-ID"]
        )

    def _write(self, note: Notification, data: bytes, message_id: str) -> Delivery:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            found = self.existing(note.key)
            if found is not None:
                return Delivery(
                    key=note.key,
                    channel=self.name,
                    message_id=message_id,
                    location=str(found),
                    duplicate=True,
                )
            stamp = (
                datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
            )  # ms: files sort by time
            path = self.directory / f"{stamp}-{note.template}-{key_hash(note.key)}.eml"
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(self.directory)
        except OSError as exc:
            # A full disk or a permission problem may clear up; the activity retries.
            raise NotifyError(
                f"outbox {self.directory}: cannot write the message for {note.key!r}: {exc}"
            ) from exc
        return Delivery(key=note.key, channel=self.name, message_id=message_id, location=str(path))


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
