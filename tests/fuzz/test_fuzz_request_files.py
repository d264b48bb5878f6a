"""Request files (YAML, CSV) and the data they hold, through the offline check: every input
ends as a report (exit 0/1) or a FileProblem (exit 2) whose message says what to fix."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from portflow.check import CheckReport, FileProblem, check_request_data, check_request_file
from starter import app
from tests.fuzz import fuzz
from tests.fuzz.paths import paths

ROOT = Path(__file__).resolve().parents[2]
GOOD_YAML = (ROOT / "examples" / "good-request.yaml").read_text()
GOOD_CSV = (ROOT / "examples" / "good-request.csv").read_text()
GOOD = {**yaml.safe_load(GOOD_YAML), "documents": [{"kind": "csr", "path": "csr.pdf", "account": 0}]}
TODAY = date(2027, 10, 1)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=150, max_size=3000),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from(["", " ", "1-800-FLOWERS", "3125550100-3125550199", "+44 20 7946 0958", "2027-02-30",
                     "25:99", "Mars/Olympus", "../../etc/passwd", "PR-2026-0042", "李小龍", "\u202e", "0123"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=20,
)


PATHS = [p for p in paths(GOOD) if p]


@st.composite
def mutated_requests(draw: st.DrawFn) -> Any:
    """The good request with a few values replaced, removed or added: the check's rules see
    every type in every place."""
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
            continue  # an earlier mutation changed the shape
    return data


def _assert_report(report: CheckReport, secrets: bool = True) -> None:
    assert report.exit_code in (0, 1)
    text = json.dumps(report.to_dict())  # serializable, whatever the input held
    assert len(text) < 2_000_000
    for problem in report.problems:
        assert problem.message and len(problem.message) < 2000, problem
    # (a mangled file may hold a secret's text in another cell too: that cell is echoed)
    for secret in ("731-448-2901", "482913") if secrets else ():
        assert secret not in text


@fuzz(300)
@given(mutated_requests())
def test_any_request_data(data: Any) -> None:
    _assert_report(check_request_data(data, today=TODAY))


@fuzz(100)
@given(values)
def test_any_value_as_the_whole_request(data: Any) -> None:
    _assert_report(check_request_data(data, today=TODAY))


def _check_file(tmp_path: Path, name: str, content: bytes, secrets: bool = True) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    try:
        report = check_request_file(path, today=TODAY)
    except FileProblem as problem:
        assert problem.code and problem.message and len(problem.message) < 1000, problem
        return
    _assert_report(report, secrets)


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return "{}"


@fuzz(150)
@given(mutated_requests())
def test_mutated_requests_as_yaml_files(tmp_path_factory: Any, data: Any) -> None:
    _check_file(tmp_path_factory.mktemp("y"), "r.yaml", _dump(data).encode())


HOSTILE_YAML = st.one_of(
    st.integers(2, 12).map(
        lambda n: "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, n))
    ),
    st.integers(1, 3000).map(lambda n: "a: " + "[" * n + "]" * n + "\n"),
    st.integers(1, 3000).map(lambda n: "".join("  " * i + f"k{i}:\n" for i in range(min(n, 400))) + "  " * 400 + "v\n"),
    st.integers(1, 300_000).map(lambda n: "customer:\n  name: " + "x" * n + "\n"),
    st.tuples(st.integers(1, 200_000), st.integers(0, 60_000)).map(
        lambda kn: "? " + "k" * kn[0] + "\n:\n" + "- 1\n" * kn[1]),  # a long key over many items
    st.sampled_from(["!!python/object:os.system", "!!binary", "!!set", "!!omap", "!!timestamp", "!foo",
                     "!<tag:example.com,2000:x>", "!!float", "!!int", "!!map", "!!seq", "!!str"])
    .map(lambda tag: f"customer: {tag} x\n"),
    st.sampled_from(["2027-02-30", "2027-13-01", "0000-01-01", "9999-12-31 25:00:00", "2027-02-29t10:00:00z",
                     "1" * 5000, "0x" + "f" * 100, "1e99999", "-.inf", ".nan", "<<: *a", "? [a]\n: b"])
    .map(lambda v: f"requested_port_date: {v}\n"),
)


@fuzz(120)
@given(HOSTILE_YAML)
def test_hostile_yaml(tmp_path_factory: Any, text: str) -> None:
    _check_file(tmp_path_factory.mktemp("h"), "r.yaml", text.encode())


@fuzz(150)
@given(st.text(max_size=400))
def test_any_text_as_yaml(tmp_path_factory: Any, text: str) -> None:
    _check_file(tmp_path_factory.mktemp("t"), "r.yaml", text.encode("utf-8", "surrogatepass"))


@st.composite
def mangled_text(draw: st.DrawFn, base: str) -> bytes:
    """``base`` with a few slices replaced, in some encoding, maybe with a BOM."""
    text = base
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        text = text[:at] + draw(st.text(max_size=20)) + text[at + cut:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1",
                                     "shift_jis", "utf-8"]))
    data = text.encode(encoding, "replace") if encoding != "utf-8" else text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


@fuzz(200)
@given(mangled_text(GOOD_CSV))
def test_mangled_csv_files(tmp_path_factory: Any, content: bytes) -> None:
    _check_file(tmp_path_factory.mktemp("c"), "r.csv", content, secrets=False)


@fuzz(150)
@given(mangled_text(GOOD_YAML))
def test_mangled_yaml_files(tmp_path_factory: Any, content: bytes) -> None:
    _check_file(tmp_path_factory.mktemp("m"), "r.yaml", content, secrets=False)


@st.composite
def csv_rows(draw: st.DrawFn) -> bytes:
    """A CSV of random cells under a real header, with random separators and quotes."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    header = draw(st.lists(st.sampled_from(["carrier", "account_number", "btn", "number", "pin", "port_type",
                                            "street", "city", "state", "postal_code", "Zip", "TN", "color", ""]),
                           min_size=4, max_size=10))
    rows = draw(st.lists(st.lists(st.text(max_size=30), max_size=12), max_size=20))
    preamble = draw(st.lists(st.tuples(st.sampled_from(["customer", "signer_name", "activation_time", "notes",
                                                       "requested_port_date", "typo", "time_zone"]),
                                       st.text(max_size=40)), max_size=6))
    lines = [f"# {k}: {v}" for k, v in preamble] + [sep.join(header)]
    lines += [sep.join(f'"{c}"' if draw(st.booleans()) else c for c in row) for row in rows]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@fuzz(200)
@given(csv_rows())
def test_random_csv_cells(tmp_path_factory: Any, content: bytes) -> None:
    _check_file(tmp_path_factory.mktemp("r"), "r.csv", content)


def test_the_cli_on_hostile_files(tmp_path: Path) -> None:
    """The same through `starter.py check` and `start`: exit 1 or 2, never a traceback."""
    runner = CliRunner()
    cases = {
        "lol.yaml": "a: &a [x, x]\nb: &b [*a, *a]\n",
        "deep.yaml": "a: " + "[" * 5000 + "]" * 5000,
        "date.yaml": "requested_port_date: 2027-02-30\n",
        "tag.yaml": "a: !!python/object/apply:os.system [ls]\n",
        "ctl.csv": "carrier,account_number,btn,number\nLu\x00men,1,3125550100,3125550100\n",
        "utf16.csv": GOOD_CSV,
        "big.yaml": "notes: " + "x" * 120_000 + "\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-16") if name == "utf16.csv" else text.encode())
        for command in (["check", str(path)], ["check", str(path), "--json"], ["start", str(path)]):
            result = runner.invoke(app, command)
            assert result.exit_code in (1, 2), (command, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert "Traceback" not in result.output


def test_dates_and_times_as_python_objects() -> None:
    # what a YAML loader other than ours (the API) might hand over
    data = copy.deepcopy(GOOD)
    data.update(requested_port_date=datetime(2027, 11, 16, 10), activation_time=time(10), time_zone=None)
    _assert_report(check_request_data(data, today=TODAY))
