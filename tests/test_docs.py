"""The documentation stays true: the command-line reference is the commands' real `--help`, every relative
link of README.md and docs/*.md leads to a file (and heading) that exists, the README stays short, and the
glossary names only metric constants that exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import reports.analytics.metrics

# The repository root, wherever under tests/ this file is moved.
ROOT = next(parent for parent in Path(__file__).resolve().parents if (parent / "pyproject.toml").exists())
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 160
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose(page: Path) -> str:
    """The page without its fenced code blocks (a link-like text in code is not a link)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in _prose(page).splitlines():
        if match := re.match(r"#{1,6} (.+)", line):
            anchors.add(re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-"))
    return anchors


def test_the_cli_reference_is_the_commands_real_help_output():
    generator = _generator()
    for path, expected in generator.expected_pages().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.relative_to(ROOT)} differs from `session-analytics --help`: run `.venv/bin/python docs/generate.py`"
        )


def test_the_cli_reference_covers_every_subcommand():
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in (
        "refresh",
        "backfill",
        "analytics",
        "serve",
        "collect",
        "tokens create",
        "tokens revoke",
        "tokens list",
        "report",
        "deliver",
        "generate-sample",
        "bench",
        "prices sync",
    ):
        assert f"`session-analytics {command}`" in page


def test_every_relative_link_points_to_a_file_and_heading_that_exist():
    broken = []
    for page in PAGES:
        for target in LINK.findall(_prose(page)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_is_short_and_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    for page in DOCS.glob("*.md"):
        assert f"(docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_the_glossary_names_only_metric_constants_that_exist():
    page = (DOCS / "metrics.md").read_text(encoding="utf-8")
    table = page.split("Where each figure is defined", 1)[1].split("\n\n", 2)[1]
    named = {name for row in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}
    assert named, "the glossary's table of constants is missing"
    assert sorted(name for name in named if not hasattr(reports.analytics.metrics, name)) == []
