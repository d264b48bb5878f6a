"""workflows/ is passed through the sandbox (worker.workflow_runner): a cached port holds its
own state, not a copy of every workflow module (bench row 3: 251 -> 151 KiB per waiting
port). The sandbox no longer catches a clock read or I/O in these modules, so this test
does: it reads every file with ``ast`` and fails on what would make a workflow
non-deterministic, or on module state that instances would share."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
FILES = sorted((ROOT / "workflows").rglob("*.py"))

# modules a workflow may not import: clocks, randomness, I/O, threads, the store and the
# outside world (activities reach those)
FORBIDDEN_MODULES = {
    "os", "sys", "time", "random", "secrets", "socket", "threading", "subprocess", "pathlib", "shutil",
    "tempfile", "urllib", "http", "requests", "httpx", "sqlite3", "sqlalchemy", "sqlmodel", "zoneinfo",
    "store", "activities", "providers", "api", "portflow", "devtools",
}
# calls that read the clock, draw randomness or do I/O (workflow.now()/uuid4()/random() instead)
FORBIDDEN_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("uuid", "uuid4"), ("uuid", "uuid1"), ("asyncio", "get_event_loop"),
}
FORBIDDEN_NAMES = {"open", "input", "print", "uuid4", "eval", "exec"}
MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "add", "discard", "setdefault"}


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT)
    found: list[str] = []
    module_names: set[str] = set()
    for node in tree.body:  # module-level state that instances would share
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name) and not t.id.startswith("__")]
            module_names.update(names)
            if not names:
                continue
            value = node.value
            mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                and value.func.id in {"list", "dict", "set", "defaultdict", "Counter", "deque"})
            if mutable:
                found.append(f"{where}:{node.lineno}: a mutable module-level value is shared by every workflow "
                             "instance: use a tuple, frozenset or MappingProxyType")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            names = []
        for name in names:
            if name.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{where}:{node.lineno}: imports {name}")
        if isinstance(node, ast.Global):
            found.append(f"{where}:{node.lineno}: 'global' state is shared by every workflow instance")
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                if (f.value.id, f.attr) in FORBIDDEN_CALLS:
                    found.append(f"{where}:{node.lineno}: {f.value.id}.{f.attr}() (use workflow.now()/uuid4())")
                if f.value.id in module_names and f.attr in MUTATORS:
                    found.append(f"{where}:{node.lineno}: mutates module-level {f.value.id}")
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_NAMES:
                found.append(f"{where}:{node.lineno}: {f.id}() in workflow code")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in module_names:
                    found.append(f"{where}:{node.lineno}: mutates module-level {t.value.id}")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_modules_are_deterministic_and_stateless(path: Path) -> None:
    assert _problems(path) == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import time\nfrom datetime import datetime\nfrom store import db\nCACHE = {}\n"
        "def f():\n    CACHE['x'] = datetime.now()\n    CACHE.update(a=1)\n    open('x')\n"
    )
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        problems = _problems(bad)
    finally:
        ROOT = old
    text = "\n".join(problems)
    for expected in ("imports time", "imports store", "mutable module-level", "datetime.now()",
                     "mutates module-level CACHE", "open()"):
        assert expected in text, text
