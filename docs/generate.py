"""Write the generated parts of the docs: the command-line reference in `docs/cli.md` and the metrics glossary in
`docs/metrics.md`.

    .venv/bin/python docs/generate.py            # rewrite the generated blocks
    .venv/bin/python docs/generate.py --check    # exit 1 when a page differs from what it would write

The reference is the real `--help` output of the installed `session-analytics` command and of each of its
subcommands (found by reading the help itself, so a new subcommand appears without touching this script), at a
fixed width so the page does not depend on the terminal. The glossary is a table of the metric registry
(`METRICS` in `reports/analytics/metrics.py`): each metric's name, constant, unit, description and SQL.
`tests/unit/test_docs.py` fails when a page drifts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reports.analytics import metrics

DOCS = Path(__file__).resolve().parent
CLI_PAGE = DOCS / "cli.md"
COMMAND = "session-analytics"
HELP_COLUMNS = "100"
BEGIN = "<!-- BEGIN GENERATED: session-analytics --help (docs/generate.py) -->"
END = "<!-- END GENERATED: session-analytics --help -->"
METRICS_PAGE = DOCS / "metrics.md"
METRICS_BEGIN = "<!-- BEGIN GENERATED: metric registry, reports/analytics/metrics.py (docs/generate.py) -->"
METRICS_END = "<!-- END GENERATED: metric registry -->"


def command_path() -> str:
    """The console script beside the running interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / COMMAND
    if beside.exists():
        return str(beside)
    found = shutil.which(COMMAND)
    if found is None:
        raise SystemExit(f"{COMMAND} is not installed (run `make run` or `pip install -e .`)")
    return found


def help_text(words: tuple[str, ...]) -> str:
    environment = {**os.environ, "COLUMNS": HELP_COLUMNS, "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [command_path(), *words, "--help"], capture_output=True, text=True, env=environment, check=True
    )
    return result.stdout.rstrip() + "\n"


def subcommands(text: str) -> list[str]:
    """The subcommands a help text lists: a `{a,b}` choice of "positional arguments" whose choices are each
    described on their own indented line below it (a plain choice argument, like `analytics`' question, is
    not)."""
    section = text.split("positional arguments:", 1)
    if len(section) < 2:
        return []
    lines = section[1].split("\n\n", 1)[0].splitlines()
    for index, line in enumerate(lines):
        match = re.fullmatch(r"  \{([^}]+)\}.*", line)
        if not match:
            continue
        names = match.group(1).split(",")
        listed = {m.group(1) for below in lines[index + 1 :] if (m := re.match(r"    (\S+)", below))}
        if set(names) <= listed:
            return names
    return []


def all_helps() -> list[tuple[tuple[str, ...], str]]:
    """(words, help text) of the command and every subcommand, depth first, in the order the help lists
    them."""
    found: list[tuple[tuple[str, ...], str]] = []
    with ThreadPoolExecutor(max_workers=4) as pool:

        def walk(words: tuple[str, ...], text: str) -> None:
            found.append((words, text))
            children = [(*words, name) for name in subcommands(text)]
            for child, child_text in zip(children, pool.map(help_text, children)):
                walk(child, child_text)

        walk((), help_text(()))
    return found


def cli_reference() -> str:
    parts = [BEGIN, ""]
    helps = all_helps()
    links = (f"[`{' '.join(words)}`](#{anchor(words)})" for words, _ in helps[1:])
    parts.append("Commands: " + ", ".join(links))
    parts.append("")
    for words, text in helps:
        level = "###" if len(words) <= 1 else "####"
        parts += [f"{level} `{' '.join((COMMAND, *words))}`", "", "```text", text.rstrip("\n"), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def anchor(words: tuple[str, ...]) -> str:
    """GitHub's anchor of the heading `session-analytics <words>`."""
    return re.sub(r"[^a-z0-9 -]", "", " ".join((COMMAND, *words)).lower()).replace(" ", "-")


def metrics_glossary() -> str:
    """The registry as a table, in its order: one row per metric."""
    parts = [METRICS_BEGIN, "", "| metric | constant | unit | definition | SQL |", "|---|---|---|---|---|"]
    for metric in metrics.METRICS:
        cells = (f"`{metric.name}`", f"`{metric.constant}`", metric.unit, metric.description, f"`{metric.sql}`")
        if any("|" in cell or "\n" in cell for cell in cells):
            raise SystemExit(f"metric {metric.name}: a '|' or a line break would break the glossary's table")
        parts.append("| " + " | ".join(cells) + " |")
    parts += ["", METRICS_END]
    return "\n".join(parts)


def replace_block(path: Path, begin: str, end: str, block: str) -> str:
    page = path.read_text(encoding="utf-8")
    if page.count(begin) != 1 or page.count(end) != 1:
        raise SystemExit(f"{path} must hold the markers {begin!r} and {end!r} once each")
    before, rest = page.split(begin, 1)
    _, after = rest.split(end, 1)
    return before + block + after


def expected_pages() -> dict[Path, str]:
    return {
        CLI_PAGE: replace_block(CLI_PAGE, BEGIN, END, cli_reference()),
        METRICS_PAGE: replace_block(METRICS_PAGE, METRICS_BEGIN, METRICS_END, metrics_glossary()),
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in expected_pages().items():
        if path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print("out of date (run `.venv/bin/python docs/generate.py`):", *map(str, stale), file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
