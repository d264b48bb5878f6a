"""Fuzz tests: every reader of outside input, fed generated input by hypothesis.

Each reader must answer every input with its documented refusal (exit 1 or 2, a 4xx, a
``FileProblem``/``CliError`` with a message) and never a traceback, a hang or unbounded
memory. ``make test`` runs a bounded, derandomized number of examples (the whole folder in
well under a minute); ``make fuzz`` runs many more, with fresh random seeds
(``PORTFLOW_FUZZ_EXAMPLES``, see the README).
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

LONG = int(os.environ.get("PORTFLOW_FUZZ_EXAMPLES", "0") or 0)


def fuzz(examples: int) -> settings:
    """``examples`` per test in ``make test`` (the same ones each run), ``PORTFLOW_FUZZ_EXAMPLES``
    random ones in ``make fuzz``. Each example gets 10 s: a hang fails the test."""
    return settings(
        max_examples=LONG or examples,
        deadline=timedelta(seconds=10),
        derandomize=not LONG,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
            HealthCheck.large_base_example,
        ],
        print_blob=True,
    )
