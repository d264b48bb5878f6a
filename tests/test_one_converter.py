"""Nothing creates a Temporal client, test environment or replayer without portflow's data
converter (issue 14): a client built elsewhere would write customer data in clear, or fail
to read the encrypted histories. The one place is ``portflow/temporal.py``
(``connect``, ``client_options``, ``with_codec``); test environments come from
``devtools/servers.py`` (``time_skipping_env``, ``local_env``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "var", "node_modules", ".git", "build", "portflow.egg-info"}
# where each construct may appear, and nowhere else
ALLOWED = {
    "Client.connect": {"portflow/temporal.py"},
    "Client": {"portflow/temporal.py"},
    "WorkflowEnvironment.start_time_skipping": {"devtools/servers.py"},
    "WorkflowEnvironment.start_local": {"devtools/servers.py"},
    "WorkflowEnvironment.start_time_skipping_v2": set(),
    "pydantic_data_converter": {"portflow/temporal.py"},
}


def _files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts)]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def offenders(source: str, where: str) -> list[str]:
    found = []
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func).removeprefix("temporalio.client.").removeprefix("temporalio.testing.")
            if name in ALLOWED and where not in ALLOWED[name]:
                found.append(f"{where}:{node.lineno}: {name}(...)")
            if name.endswith("Replayer") and not any(
                k.arg is None and isinstance(k.value, ast.Call) and _dotted(k.value.func).endswith("client_options")
                for k in node.keywords
            ):
                found.append(f"{where}:{node.lineno}: Replayer(...) without **client_options()")
        elif isinstance(node, ast.Name) and node.id == "pydantic_data_converter" and where not in ALLOWED[node.id]:
            parent = parents.get(node)
            if not (isinstance(parent, ast.Attribute) and parent.attr == "payload_converter"):
                found.append(f"{where}:{node.lineno}: pydantic_data_converter (use portflow.temporal.data_converter)")
    return found


def test_every_client_environment_and_replayer_uses_the_shared_converter() -> None:
    found = [o for p in _files() for o in offenders(p.read_text(encoding="utf-8"), p.relative_to(ROOT).as_posix())]
    assert not found, "build these through portflow.temporal / devtools.servers:\n" + "\n".join(found)


def test_the_check_catches_a_stray_client() -> None:
    stray = ("from temporalio.client import Client\n"
             "from temporalio.testing import WorkflowEnvironment\n"
             "from temporalio.contrib.pydantic import pydantic_data_converter\n"
             "async def f():\n"
             "    await Client.connect('x', data_converter=pydantic_data_converter)\n"
             "    await WorkflowEnvironment.start_local()\n"
             "    Replayer(workflows=[])\n")
    found = offenders(stray, "elsewhere.py")
    assert len(found) == 4, found
    assert offenders("Replayer(workflows=[], **client_options())\n", "x.py") == []
