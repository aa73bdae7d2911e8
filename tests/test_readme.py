"""The README's command-line synopsis names every command and every option `--help` shows."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from typer.testing import CliRunner

from memberbase.cli.main import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


def synopsis() -> dict[str, str]:
    """Command path ("events publish") -> its synopsis text, continuation lines included."""
    text = README.read_text(encoding="utf-8").split("## The command line", 1)[1]
    block = text.split("```", 2)[1]
    commands: dict[str, str] = {}
    current = ""
    for line in block.splitlines():
        line = line.split("#", 1)[0]
        if line.startswith("memberbase "):
            # The command is the lowercase words before the first argument or option.
            words = line.split()[1:]
            current = " ".join(
                itertools.takewhile(lambda w: re.fullmatch("[a-z][a-z-]*", w) is not None, words)
            )
            commands[current] = line
        elif line.strip() and current:
            commands[current] += " " + line.strip()
    return commands


def help_of(path: str) -> str:
    result = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def commands_of(path: str) -> list[str]:
    box = help_of(path).split("Commands", 1)[1]
    return re.findall(r"^│ ([a-z][a-z-]*)\s", box, flags=re.M)


def options_of(path: str) -> list[tuple[str, ...]]:
    """Each option as its spellings: ("--once", "--no-once") for a flag, ("--org",) otherwise."""
    box = help_of(path).split("Options", 1)[1]
    found = re.findall(r"^│\s+(?:\*\s+)?(--[a-z-]+)(?:\s+(--[a-z-]+))?", box, flags=re.M)
    return [tuple(o for o in pair if o) for pair in found if pair[0] != "--help"]


def every_command() -> list[str]:
    leaves: list[str] = []
    for top in commands_of(""):
        if "Commands" in help_of(top):
            leaves += [f"{top} {sub}" for sub in commands_of(top)]
        else:
            leaves.append(top)
    return leaves


def test_the_synopsis_lists_every_command() -> None:
    assert sorted(synopsis()) == sorted(every_command())


def test_the_synopsis_names_every_option_of_each_command() -> None:
    missing = []
    for path, line in synopsis().items():
        for spellings in options_of(path):
            if not any(re.search(rf"{re.escape(s)}\b(?!-)", line) for s in spellings):
                missing.append(f"{path}: {spellings[0]}")
    assert missing == []
