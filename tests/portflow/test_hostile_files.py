"""Request files that used to crash or hog the reader: each is now a clear exit 2 that
names the line and what to fix, in bounded time and memory (issue 12)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portflow.check import FileProblem, check_request_file
from portflow.check.yaml_reader import MAX_DEPTH, MAX_FILE_BYTES, MAX_SCALAR
from starter import app

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "examples" / "good-request.yaml").read_text()
runner = CliRunner()


def _problem(path: Path) -> FileProblem:
    with pytest.raises(FileProblem) as err:
        check_request_file(path)
    return err.value


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        # PyYAML turned these into ValueError / ReaderError / RecursionError tracebacks.
        ("requested_port_date: 2027-02-30\n", "refused_yaml", ["line 1", "2027-02-30", "not a date"]),
        ("requested_port_date: 2027-02-30 10:00:00\n", "refused_yaml", ["not a date"]),
        ('customer:\n  name: "Acme\x01"\n', "bad_character", ["line 2, column 14", "U+0001"]),
        ("customer: Acme\x00\n", "bad_character", ["NUL"]),
        ("customer: Acme\x7f\n", "bad_character", ["U+007F"]),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "refused_yaml", [f"more than {MAX_DEPTH} levels"]),
        ("a: " + "{b: " * 200 + "1" + "}" * 200 + "\n", "refused_yaml", ["levels"]),
        ("a: &x 1\nb: *x\n", "refused_yaml", ["line 1", "anchors"]),
        ("a: *x\n", "refused_yaml", ["aliases"]),
        ("a: !!python/object:os.system x\n", "refused_yaml", ["tag", "python/object"]),
        ("a: !!binary aGVsbG8=\n", "refused_yaml", ["tag"]),
        ("a: !custom 1\n", "refused_yaml", ["tag"]),
        ("a: " + "x" * (MAX_SCALAR + 1) + "\n", "refused_yaml", ["characters", "shorten"]),
    ],
)
def test_hostile_yaml_is_a_clear_file_problem(
    tmp_path: Path, text: str, code: str, words: list[str]
) -> None:
    problem = _problem(_write(tmp_path, "r.yaml", text))
    assert problem.code == code, problem.message
    for word in words:
        assert word in problem.message, problem.message
    assert len(problem.message) < 400


def test_billion_laughs_is_refused_before_it_expands(tmp_path: Path) -> None:
    """Nested aliases used to make the field-path walk visit 10^9 paths (GBs, then a
    MemoryError); the reader now refuses the first anchor, in a subprocess capped at 1 GB."""
    path = ROOT / "examples" / "bad-aliases.yaml"
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from typer.testing import CliRunner\n"
        "from starter import app\n"
        f"r = CliRunner().invoke(app, ['check', {str(path)!r}, '--json'])\n"
        "sys.stdout.write(r.stdout)\n"
        "sys.exit(r.exit_code)\n"
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["file_problem"]["code"] == "refused_yaml"
    assert time.monotonic() - started < 30
    assert "Traceback" not in proc.stderr


def test_long_keys_are_refused_before_their_paths_multiply(tmp_path: Path) -> None:
    """A 90,000-character key over 45,000 list items: each item's line-number path held a copy
    of the key (4 GB). Keys are field names: over 200 characters, or not text, is refused."""
    text = "? " + "k" * 90_000 + "\n:\n" + "- 1\n" * 45_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = _problem(_write(tmp_path, "r.yaml", text))
    assert problem.code == "refused_yaml" and "a key of 90,000 characters" in problem.message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    problem = _problem(_write(tmp_path, "k.yaml", "? [a, b]\n: 1\n"))
    assert "a key that is a list or a mapping" in problem.message


def test_merge_keys_need_aliases_and_are_refused(tmp_path: Path) -> None:
    text = "base: &b {city: Chicago}\naddr:\n  <<: *b\n"
    assert _problem(_write(tmp_path, "r.yaml", text)).code == "refused_yaml"


def test_too_many_values_are_refused(tmp_path: Path) -> None:
    text = "a: [" + "1," * 60_000 + "1]\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = _problem(_write(tmp_path, "r.yaml", text))
    assert problem.code == "refused_yaml" and "values" in problem.message
    # composed to the limit only (a few tens of MB), not the whole document
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000


def test_long_integers_stay_text(tmp_path: Path) -> None:
    # int('1' * 5000) is a ValueError since Python 3.11: such a value is now plain text
    path = _write(tmp_path, "r.yaml", GOOD.replace('pin: "482913"', "pin: " + "1" * 5000))
    report = check_request_file(path)  # no exception: the model judges the text
    assert any(p.where == "accounts[0].pin" for p in report.errors) or report.ok


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (GOOD.encode("utf-16"), "bad_encoding", ["UTF-16", "UTF-8"]),
        (GOOD.encode("utf-16-le"), "bad_encoding", ["UTF-16"]),
        (GOOD.encode("utf-32"), "bad_encoding", ["UTF-32"]),
        (GOOD.encode("cp1252") + "Łódź".encode("iso-8859-2"), "bad_encoding", ["not UTF-8", "byte 0x"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad_encoding", ["not UTF-8"]),
        (b"customer: x\n" + b"\x00" * 10, "bad_character", ["NUL", "binary"]),
    ],
)
@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_wrong_encodings_name_the_encoding(
    tmp_path: Path, content: bytes, code: str, words: list[str], suffix: str
) -> None:
    problem = _problem(_write(tmp_path, "r" + suffix, content))
    assert problem.code == code, problem.message
    for word in words:
        assert word in problem.message


def test_files_over_the_size_limit_are_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with path.open("wb") as f:
        f.write(b"carrier,account_number,btn,number\n")
        f.truncate(MAX_FILE_BYTES * 50)  # 200 MB of NULs, sparse on disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = _problem(path)
    assert problem.code == "too_large" and "4,194,304" in problem.message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_control_characters_in_a_csv_cell(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "good-request.csv").read_text().replace("Lumen", "Lu\x1bmen", 1)
    problem = _problem(_write(tmp_path, "r.csv", text))
    assert problem.code == "bad_character" and "U+001B" in problem.message


def test_every_hostile_file_exits_2_through_the_cli(tmp_path: Path) -> None:
    for name, text in {
        "date.yaml": "requested_port_date: 2027-02-30\n",
        "ctl.yaml": "customer: a\x01b\n",
        "deep.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    }.items():
        result = runner.invoke(app, ["check", str(_write(tmp_path, name, text))])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "cannot check" in result.output
