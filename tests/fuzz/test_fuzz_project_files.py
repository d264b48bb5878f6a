"""Project files (``portflow.project_file``): every input ends as a ProjectSpec or a refusal
(``ProjectFileProblem`` / ``FileProblem``) whose message says what to fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from models.project import ProjectSpec
from portflow.check.yaml_reader import FileProblem
from portflow.project_file import ProjectFileProblem, read_project_file, read_project_text
from tests.fuzz import fuzz
from tests.fuzz.paths import paths
from tests.fuzz.test_fuzz_request_files import HOSTILE_YAML, values

ROOT = Path(__file__).resolve().parents[2]
GOOD_TEXT = (ROOT / "examples" / "project.yaml").read_text()
GOOD = yaml.safe_load(GOOD_TEXT)
PATHS = [p for p in paths(GOOD) if p]


@st.composite
def mutated_projects(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(GOOD)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "remove", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(values)
            elif action == "remove" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=15))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue
    return data


def _read(text: str) -> ProjectSpec | None:
    try:
        return read_project_text(text, "p.yaml")
    except ProjectFileProblem as problem:
        assert problem.problems and all(p and len(p) < 1000 for p in problem.problems), problem.problems
        assert len(str(problem)) < 60_000
    except FileProblem as problem:
        assert problem.code and problem.message and len(problem.message) < 1000
    return None


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return "{}"


@fuzz(300)
@given(mutated_projects())
def test_mutated_project_files(data: Any) -> None:
    spec = _read(_dump(data))
    if spec is not None:  # what passes is a whole project: every task with a due date
        assert all(t.due is not None for t in spec.task_specs())


@fuzz(100)
@given(values)
def test_any_value_as_the_whole_file(data: Any) -> None:
    _read(_dump(data))


@fuzz(100)
@given(HOSTILE_YAML)
def test_hostile_yaml(text: str) -> None:
    _read(text)


@fuzz(100)
@given(st.binary(max_size=2000))
def test_any_bytes(tmp_path_factory: Any, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("p") / "p.yaml"
    path.write_bytes(raw)
    try:
        read_project_file(path)
    except (ProjectFileProblem, FileProblem):
        pass


@fuzz(200)
@given(st.one_of(mutated_projects(), values))
def test_project_data_as_the_api_reads_it(data: Any) -> None:
    """POST /v1/projects reads its JSON body with check_project_data: a spec, or problems by field."""
    from portflow.project_file import check_project_data

    spec, problems = check_project_data(data)
    assert (spec is None) == bool(problems)
    assert all(isinstance(w, str) and m and len(m) < 1000 for w, m in problems)
