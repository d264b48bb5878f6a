"""``python -m portflow.demo [--project]``: the demos.

Without ``--project`` it is ``make demo`` (``devtools/demo.py``: one port, start to finish);
with it, a whole implementation project with its port (``devtools/project_demo.py``). The
demos live in devtools/, which depends on portflow; this entry point runs them by module
name so portflow never imports devtools (tests/test_layers.py keeps the packages acyclic).
"""

from __future__ import annotations

import runpy
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    module = "devtools.project_demo" if "--project" in argv else "devtools.demo"
    namespace = runpy.run_module(module, run_name="portflow.demo")
    return int(namespace["main"](argv))


if __name__ == "__main__":
    sys.exit(main())
