"""The options tables of docs/cli.md, written from the `leadscore` command itself, so the reference
says exactly what `leadscore CMD --help` says.

Each table sits between `<!-- generated: leadscore CMD -->` and `<!-- end generated -->` in
docs/cli.md. After changing a command, refresh them all with

    .venv/bin/python -m tests.docs.cli_reference --write

A new command needs its section written by hand first (a heading, a sentence, and the two marker
lines); `--write` then fills in its table.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
import typer.core

from leadscore_cli import app

Command = typer.core.TyperCommand | typer.core.TyperGroup

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
START = re.compile(r"^<!-- generated: (?P<path>leadscore[\w -]*?) -->$")
END = "<!-- end generated -->"
REFRESH = ".venv/bin/python -m tests.docs.cli_reference --write"


@dataclass(frozen=True)
class GeneratedBlock:
    """One generated table in a doc: which command it is for, and where it is."""

    path: str
    start_line: int  # the line of the start marker, counted from 1
    body: str  # the lines between the markers


def commands() -> dict[str, Command]:
    """`leadscore` itself (its options come before the command) and every command that runs,
    by the words that call it: 'leadscore train', 'leadscore db upgrade', ..."""
    root = typer.main.get_command(app)
    found: dict[str, Command] = {"leadscore": root}
    for path, command in _leaves(root, "leadscore"):
        found[path] = command
    return found


def _leaves(command: Command, path: str) -> Iterator[tuple[str, Command]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _leaves(sub, f"{path} {name}")


def reference(path: str, command: Command) -> str:
    """The command's help text as a quote, then its arguments and options as --help lists them
    (without --help itself, which every command takes)."""
    context = typer.Context(command, info_name=path)
    paragraphs = [" ".join(p.split()) for p in (command.help or "").split("\n\n") if p.strip()]
    lines = [line for p in paragraphs for line in (f"> {p}", ">")][:-1]
    records = [p.get_help_record(context) for p in command.get_params(context) if not p.hidden]
    rows = [
        (usage, " ".join(meaning.split()))
        for usage, meaning in filter(None, records)
        if usage != "--help"
    ]
    if lines:
        lines.append("")
    if not rows:
        return "\n".join([*lines, "No arguments or options besides `--help`."])
    lines += ["| argument or option | meaning |", "|---|---|"]
    lines += [f"| `{_cell(usage)}` | {_cell(meaning)} |" for usage, meaning in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def generated_blocks(text: str) -> list[GeneratedBlock]:
    """The generated tables of a doc, in order."""
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines, start=1):
        match = START.match(line.strip())
        if match is None:
            continue
        try:
            end = lines.index(END, number)
        except ValueError:
            raise ValueError(f"line {number}: '{line}' has no '{END}' after it") from None
        blocks.append(GeneratedBlock(match["path"], number, "\n".join(lines[number:end]).strip()))
    return blocks


def refreshed(text: str) -> str:
    """The doc with every generated table rewritten from the command it names."""
    known = commands()
    lines = text.splitlines()
    for block in reversed(generated_blocks(text)):
        if block.path not in known:
            continue
        end = lines.index(END, block.start_line)
        lines[block.start_line : end] = reference(block.path, known[block.path]).splitlines()
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """`--write`: refresh docs/cli.md in place; without it, print every table."""
    if "--write" not in argv:
        for path, command in commands().items():
            print(f"<!-- generated: {path} -->\n{reference(path, command)}\n{END}\n")
        return 0
    text = CLI_DOC.read_text(encoding="utf-8")
    CLI_DOC.write_text(refreshed(text), encoding="utf-8")
    documented = {block.path for block in generated_blocks(text)}
    for path in commands():
        if path not in documented:
            print(f"docs/cli.md has no section for `{path}`: add one with the marker lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
