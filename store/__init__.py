"""Persistence: the database (``db``, ``tables``, Alembic ``migrations``), and small
keyword-only data functions per concept: ``requests``, ``inventory``, ``documents``,
``vault`` and ``ledger``. Only activities, the API and the CLI import this package;
workflow code never does (it is not deterministic)."""
