"""E-signature providers, chosen by ``PORTFLOW_ESIGN_PROVIDER``: ``local`` or ``docusign``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from providers.esign.base import ESignConfigError, ESignError, ESignProvider, ESignRejected

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "ESignConfigError",
    "ESignError",
    "ESignProvider",
    "ESignRejected",
    "esign_from_settings",
]


def esign_from_settings(
    settings: Settings, *, clock: Callable[[], datetime] | None = None
) -> ESignProvider:
    """The provider the settings name. DocuSign is imported only when chosen, so the local
    flow needs neither its SDK loaded nor its keys configured. ``clock`` is the time the
    local flow records (activities pass Temporal's)."""
    if settings.esign_provider == "local":
        from providers.esign.local import LocalESign

        return LocalESign(settings, clock=clock)
    if settings.esign_provider == "docusign":
        from providers.esign.docusign import DocuSignESign

        return DocuSignESign.from_settings(settings)
    raise ESignConfigError(
        f"unknown e-signature provider {settings.esign_provider!r}: "
        "set PORTFLOW_ESIGN_PROVIDER to local or docusign"
    )
