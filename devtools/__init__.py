"""Developer tooling, not client code: the demo (``python -m devtools.demo``, what
``make demo`` runs), the local Temporal dev server, and the Temporal binaries and search
attribute registration the demo and the tests use. Nothing in production imports it."""
