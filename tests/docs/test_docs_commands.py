"""The docs show only what exists: every `leadscore` command line in a code block of README.md or
docs/*.md names a real command with real options (parsed by the command itself), every `make`
target shown is in the Makefile, every relative link leads to a file (and heading), every module
path named in the text exists, and the options tables of docs/cli.md are those of the commands.
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from tests.docs import cli_reference

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*(```|~~~)")
# `leadscore` as a word, possibly at the end of a path: the lines worth parsing as shell.
MENTION = re.compile(r"(?:^|[\s=/])leadscore(?:\s|$)")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SYSTEMD_EXEC = re.compile(r"^Exec\w*=")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PACKAGES = "features|serve|insights|train"
REPO_PATH = re.compile(rf"^(?:{PACKAGES}|notebooks|tests|benchmarks|docs)/[\w./-]*$")
MODULE_PATH = re.compile(rf"^(?:{PACKAGES})(?:\.\w+)+$")


@dataclass(frozen=True)
class Line:
    """One line of a doc (backslash continuations joined), where it is, and whether it sits in a
    fenced code block."""

    doc: Path
    number: int
    text: str
    in_code: bool

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.number}"


def doc_lines(doc: Path) -> Iterator[Line]:
    in_code, pending, first = False, "", 0
    for number, text in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(text):
            in_code = not in_code
            continue
        if in_code and text.rstrip().endswith("\\"):
            pending, first = pending + text.rstrip()[:-1] + " ", first or number
            continue
        yield Line(doc, first or number, pending + text, in_code)
        pending, first = "", 0


def code_lines() -> Iterator[Line]:
    for doc in DOCS:
        yield from (line for line in doc_lines(doc) if line.in_code)


def prose_lines() -> Iterator[Line]:
    for doc in DOCS:
        yield from (line for line in doc_lines(doc) if not line.in_code)


def shell_commands(text: str) -> Iterator[list[str]]:
    """The simple commands of a shell line (split at `&&`, `;`, pipes), without the environment
    assignments in front of them and without redirections after them."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    command: list[str] = []
    redirected = False
    for token in lexer:
        if token in SHELL_OPERATORS:
            yield command
            command, redirected = [], False
        elif redirected or set(token) <= set("<>&"):
            redirected = True
        elif not command and ASSIGNMENT.match(token) and not SYSTEMD_EXEC.match(token):
            continue
        else:
            command.append(SYSTEMD_EXEC.sub("", token) if not command else token)
    yield command


def invocations(kind: str) -> Iterator[tuple[Line, list[str]]]:
    """(line, arguments) of every `leadscore` (kind='leadscore') or `make` command shown."""
    for line in code_lines():
        if kind == "leadscore" and not MENTION.search(line.text):
            continue
        if kind == "make" and not re.match(r"^\s*make\s", line.text):
            continue
        try:
            commands = list(shell_commands(line.text))
        except ValueError as exc:
            pytest.fail(f"{line.where}: cannot read as a shell line ({exc}): {line.text}")
        for command in commands:
            if command and Path(command[0]).name == kind:
                yield line, command[1:]


def command_problem(args: list[str]) -> str | None:
    """Why `leadscore ARGS` would be refused before it runs, or None: an unknown command, an
    unknown option, a value of the wrong type, a missing argument."""
    command = typer.main.get_command(cli_reference.app)
    path = "leadscore"
    while getattr(command, "commands", None) is not None:
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        while args and args[0].startswith("-"):
            option = args.pop(0).split("=")[0]
            if option == "--help":
                return None
            if option not in known:
                return f"`{path}` has no option {option}"
        if not args:
            return f"`{path}` needs a command: one of {', '.join(command.commands)}"
        name = args.pop(0)
        if name not in command.commands:
            return f"`{path}` has no command {name!r}; it has {', '.join(command.commands)}"
        command, path = command.commands[name], f"{path} {name}"
    try:
        command.make_context(path, list(args))
    except typer.Exit:  # --help
        return None
    except typer.TyperException as exc:
        option = getattr(exc, "option_name", None)
        if option:
            return f"`{path}` has no option {option}"
        return f"`{path}`: {exc}"
    return None


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, flags=re.MULTILINE))


def heading_anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    seen: Counter[str] = Counter()
    anchors = set()
    for line in doc_lines(doc):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line.text)
        if line.in_code or match is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", match[1].lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


def link_problem(line: Line, target: str) -> str | None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
        return None
    path_text, _, anchor = target.partition("#")
    path = (line.doc.parent / path_text).resolve() if path_text else line.doc
    if not path.exists():
        return f"links to {path_text}, which does not exist"
    if anchor and path.suffix == ".md" and anchor not in heading_anchors(path):
        return f"links to {target}, but {path.name} has no heading with the anchor #{anchor}"
    return None


def module_exists(dotted: str) -> bool:
    """`serve.model.scorer` or `serve.store.snapshots.training_snapshots`: a module, or a name in
    one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_docs_show_leadscore_commands():
    assert list(invocations("leadscore")), "no `leadscore` command found in the docs' code blocks"


def test_every_leadscore_command_shown_exists_with_its_options():
    problems = [
        f"{line.where}: {problem} (in: {line.text.strip()})"
        for line, args in invocations("leadscore")
        if (problem := command_problem(list(args)))
    ]
    assert not problems, "\n".join(problems)


def test_every_make_target_shown_exists():
    targets = makefile_targets()
    problems = [
        f"{line.where}: the Makefile has no target {word!r}"
        for line, args in invocations("make")
        for word in args
        if "=" not in word and not word.startswith("-") and word not in targets
    ]
    assert not problems, "\n".join(problems)


def test_every_relative_link_leads_to_a_file():
    problems = [
        f"{line.where}: {problem}"
        for line in prose_lines()
        for target in LINK.findall(CODE_SPAN.sub("", line.text))
        if (problem := link_problem(line, target))
    ]
    assert not problems, "\n".join(problems)


def test_every_module_path_named_exists():
    problems = []
    for line in prose_lines():
        for span in CODE_SPAN.findall(line.text):
            if REPO_PATH.match(span) and not (ROOT / span).exists():
                problems.append(f"{line.where}: `{span}` does not exist")
            elif MODULE_PATH.match(span) and not module_exists(span):
                problems.append(f"{line.where}: `{span}` is no module or name in one")
    assert not problems, "\n".join(problems)


def test_cli_reference_tables_are_the_commands_own():
    doc = cli_reference.CLI_DOC
    blocks = cli_reference.generated_blocks(doc.read_text(encoding="utf-8"))
    commands = cli_reference.commands()
    documented = Counter(block.path for block in blocks)
    problems = [
        f"docs/cli.md documents no `{path}`: add a section for it with the lines "
        f"'<!-- generated: {path} -->' and '{cli_reference.END}', then run "
        f"{cli_reference.REFRESH}"
        for path in commands
        if path not in documented
    ]
    problems += [f"docs/cli.md has {n} tables for `{p}`" for p, n in documented.items() if n > 1]
    for block in blocks:
        if block.path not in commands:
            problems.append(f"docs/cli.md:{block.start_line}: `{block.path}` is not a command")
        elif block.body != cli_reference.reference(block.path, commands[block.path]):
            problems.append(
                f"docs/cli.md:{block.start_line}: the table of `{block.path}` differs from "
                f"`{block.path} --help`; run {cli_reference.REFRESH}"
            )
    assert not problems, "\n".join(problems)
