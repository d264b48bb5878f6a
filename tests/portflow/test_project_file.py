"""Project files: the example reads; each bad file is refused with its line, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.project import FORWARDING_TASK, PORTS_TASK, TEMPLATE, Phase
from portflow.check.yaml_reader import FileProblem
from portflow.project_file import ProjectFileProblem, read_project_file, read_project_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "project.yaml").read_text()


def test_the_example_reads_with_every_milestone_of_the_seeds() -> None:
    spec = read_project_file(ROOT / "examples" / "project.yaml")
    ids = [t.id for t in spec.task_specs()]
    assert ids == [t.id for t in TEMPLATE] + ["e911_addresses"]  # temporary_forwarding: true keeps its task
    assert {t.phase for t in spec.task_specs()} == set(Phase) - {Phase.CLOSED}
    assert all(t.due == spec.timeline.due(t.phase) for t in spec.task_specs())


def test_without_temporary_forwarding_its_task_is_left_out() -> None:
    spec = read_project_text(EXAMPLE.replace("temporary_forwarding: true", "temporary_forwarding: false"), "p.yaml")
    assert FORWARDING_TASK not in [t.id for t in spec.task_specs()]


@pytest.mark.parametrize(("change", "expected"), [
    (("go_live: 2027-04-15", "go_live: next week"), "line 21, timeline.go_live: 'next week' is not a date (YYYY-MM-DD)"),
    (("go_live: 2027-04-15", "go_live: 2027-03-01"), "line 17, timeline: Value error, go_live (2027-03-01) is before build"),
    (("  email: lee@acme-dental.example", "  email: lee"), "line 11, contact.email: value is not a valid email address"),
    (("reminder_days: 2", "reminder_days: 2\ncolour: blue"), "line 25, colour: is not a field of a project file"),
    (("time_zone: America/New_York", "time_zone: Mars/Olympus"), "line 16, time_zone: unknown time zone 'Mars/Olympus'"),
    (("skip_tasks: []", "skip_tasks: [kickoff]"), "skip_tasks: Value error, 'kickoff' is not a task of the template"),
    (("skip_tasks: []", f"skip_tasks: [{PORTS_TASK}]"), f"{PORTS_TASK} cannot be skipped"),
    (("  - id: e911_addresses", "  - id: network_ready"), "task 'network_ready' is defined twice"),
    (("    phase: build", "    phase: closed"), "tasks[0].phase: Value error, closed has no tasks"),
    (("id: ACME-2027", "id: ACME 2027!"), "line 5, id: String should match pattern"),
    (("ipm:", "ipm_:"), "ipm: is missing"),
])
def test_a_bad_project_file_is_refused_with_its_line_and_reason(change: tuple[str, str], expected: str) -> None:
    assert change[0] in EXAMPLE
    with pytest.raises(ProjectFileProblem) as err:
        read_project_text(EXAMPLE.replace(*change), "p.yaml")
    assert any(expected.replace("Value error, ", "") in p or expected in p for p in err.value.problems), err.value.problems


def test_duplicate_keys_empty_files_and_lists_are_refused() -> None:
    with pytest.raises(ProjectFileProblem, match="'reminder_days' is written twice"):
        read_project_text(EXAMPLE + "reminder_days: 3\n", "p.yaml")
    with pytest.raises(ProjectFileProblem, match="the file is empty"):
        read_project_text("# nothing\n", "p.yaml")
    with pytest.raises(ProjectFileProblem, match="holds a list, not a project"):
        read_project_text("- a\n", "p.yaml")
    with pytest.raises(FileProblem, match="anchors"):
        read_project_text("id: &a x\n", "p.yaml")
