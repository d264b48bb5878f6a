"""Adapters to external systems, each behind a small interface, chosen in settings.

Every system has a real adapter and a local default that really works:
- e-signature: ``local`` (document store + ``starter.py sign``) or ``docusign``;
- carrier: ``simulator``, ``manual`` (PM records events) or ``telnyx``;
- notifications: ``outbox`` (.eml files), ``smtp``, ``teams``, ``slack``.
"""
