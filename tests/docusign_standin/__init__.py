"""A local DocuSign (OAuth over TLS + eSignature REST v2.1 + Connect) for tests; see server.py."""

from tests.docusign_standin.server import DocuSignStandIn, connect_signatures

__all__ = ["DocuSignStandIn", "connect_signatures"]
