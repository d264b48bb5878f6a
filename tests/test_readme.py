"""The README is the user's manual: its two commands and every setting must be in it."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_every_setting_is_documented() -> None:
    missing = [f"PORTFLOW_{n.upper()}" for n in Settings.model_fields if f"PORTFLOW_{n.upper()}" not in README]
    assert not missing, f"document these settings in the README: {missing}"
