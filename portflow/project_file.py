"""Reading a project file (examples/project.yaml) into a :class:`models.project.ProjectSpec`.

The bytes and the YAML go through the request files' safe reader (``portflow.check.yaml_reader``:
size, encoding, control characters, anchors, tags, depth); then every problem of the data
is reported at once, each with its field and the line it is on, e.g.
``line 12, timeline.go_live: 'next week' is not a date (YYYY-MM-DD)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.calendar import zone
from core.text import shorten
from models.project import ProjectSpec
from portflow.check.request_file import _walk
from portflow.check.yaml_reader import MAX_FILE_BYTES, FileProblem, decode, parse_yaml

EXAMPLE = "examples/project.yaml"
_MESSAGES = {
    "missing": "is missing",
    "extra_forbidden": "is not a field of a project file",
    "date_from_datetime_parsing": "is not a date (YYYY-MM-DD)",
    "date_parsing": "is not a date (YYYY-MM-DD)",
    "date_type": "is not a date (YYYY-MM-DD)",
}


class ProjectFileProblem(ValueError):
    """A project file that cannot start a project; ``problems`` lists each (one per line)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + ("; ".join(problems) if len(problems) < 2
                                          else f"{len(problems)} problems:\n  " + "\n  ".join(problems)))


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(lines: dict[str, int], where: str) -> int | None:
    """The line of ``where`` or of its nearest parent that is in the file."""
    while where:
        if where in lines:
            return lines[where]
        cut = max(where.rfind("."), where.rfind("["))
        where = where[:cut] if cut > 0 else ""
    return None


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind in _MESSAGES:
        text = _MESSAGES[kind]
        if "input" in err and kind not in ("missing", "extra_forbidden"):
            text = f"'{shorten(str(err['input']), 40)}' {text}"
        return text
    return shorten(str(err.get("msg", "is not valid")).removeprefix("Value error, "), 300)


def read_project_text(text: str, source: str) -> ProjectSpec:
    """The project in ``text``; :class:`ProjectFileProblem` (or ``FileProblem`` for unreadable
    YAML) saying what to fix."""
    node, data = parse_yaml(text, source)
    if data is None:
        raise ProjectFileProblem(source, [f"the file is empty: start from {EXAMPLE}"])
    if not isinstance(data, dict):
        raise ProjectFileProblem(source, [f"the file holds a {type(data).__name__}, not a project: a project is a "
                                          f"mapping with id, customer, contact, ipm and timeline (see {EXAMPLE})"])
    lines: dict[str, int] = {}
    dupes: list[tuple[str, str, str, str]] = []
    _walk(node, "", lines, dupes)
    problems = [f"line {lines.get(where, '?')}, {where}: {msg}" for _, _, where, msg in dupes]
    spec, found = check_project_data(data)
    for where, msg in found:
        line = _line(lines, where)
        problems.append(f"{'line ' + str(line) + ', ' if line else ''}{where or 'the project'}: {msg}")
    if problems or spec is None:
        raise ProjectFileProblem(source, problems)
    return spec


def check_project_data(data: Any) -> tuple[ProjectSpec | None, list[tuple[str, str]]]:
    """A project from plain data (a file's YAML, an API's JSON): the spec, or None and every
    problem as (field, what is wrong)."""
    try:
        spec = ProjectSpec.model_validate(data)
    except ValidationError as exc:
        return None, [(_where(tuple(err.get("loc", ()))), _message(err)) for err in exc.errors()[:50]]
    try:
        zone(spec.time_zone)
    except ValueError as exc:
        return None, [("time_zone", str(exc))]
    return spec, []


def read_project_file(path: Path) -> ProjectSpec:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise FileProblem("unreadable", str(path), f"cannot be read ({exc.strerror or exc})") from None
    return read_project_text(decode(raw, str(path)), str(path))
