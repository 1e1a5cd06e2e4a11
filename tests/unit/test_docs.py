"""The documentation stays true: the command-line reference is the commands' real `--help`, the metrics glossary
is the metric registry, every relative link of README.md and docs/*.md leads to a file (and heading) that exists,
the README stays short, and the metrics page names only metric constants that exist."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import reports.analytics.metrics
import reports.analytics.vocabulary
from reports.analytics.metrics import METRICS, REGISTRY, Metric

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


def test_the_generated_pages_are_up_to_date():
    """cli.md holds the commands' real `--help`, metrics.md the metric registry."""
    generator = _generator()
    for path, expected in generator.expected_pages().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.relative_to(ROOT)} differs from what docs/generate.py writes: "
            "run `.venv/bin/python docs/generate.py`"
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


def _glossary_block(generator) -> str:
    """The generated block of docs/metrics.md, markers included."""
    page = (DOCS / "metrics.md").read_text(encoding="utf-8")
    begin, end = generator.METRICS_BEGIN, generator.METRICS_END
    assert page.count(begin) == 1 and page.count(end) == 1, "docs/metrics.md lacks the glossary's markers"
    return begin + page.split(begin, 1)[1].split(end, 1)[0] + end


def test_the_metrics_glossary_is_the_registry():
    generator = _generator()
    assert _glossary_block(generator) == generator.metrics_glossary(), (
        "docs/metrics.md's glossary differs from reports/analytics/metrics.py: run `.venv/bin/python docs/generate.py`"
    )


def test_every_registry_metric_appears_in_the_glossary():
    """One row per metric, no other rows, each with the metric's name, constant, unit, description and SQL."""
    rows = [line for line in _glossary_block(_generator()).splitlines() if line.startswith("| `")]
    assert len(rows) == len(METRICS)
    for metric in METRICS:
        row = f"| `{metric.name}` | `{metric.constant}` | {metric.unit} | {metric.description} | `{metric.sql}` |"
        assert row in rows, f"metric {metric.name} is missing from docs/metrics.md's glossary"


def test_a_changed_registry_makes_the_glossary_stale(monkeypatch):
    generator = _generator()
    changed = (*METRICS[:-1], dataclasses.replace(METRICS[-1], description="something else"))
    monkeypatch.setattr(generator.metrics, "METRICS", changed)
    assert _glossary_block(generator) != generator.metrics_glossary()
    added = (*METRICS, Metric("new_figure", "count(*)", "count", "A figure not yet in the page."))
    monkeypatch.setattr(generator.metrics, "METRICS", added)
    assert generator.expected_pages()[DOCS / "metrics.md"] != (DOCS / "metrics.md").read_text(encoding="utf-8")


def test_the_registry_is_complete_and_its_constants_are_its_sql():
    assert len(REGISTRY) == len(METRICS), "two metrics share a name"
    for metric in METRICS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", metric.name)
        assert metric.sql and metric.unit and metric.description, f"metric {metric.name} lacks a field"
        assert getattr(reports.analytics.metrics, metric.constant) == metric.sql


def test_the_metrics_page_names_only_metric_constants_that_exist():
    page = (DOCS / "metrics.md").read_text(encoding="utf-8")
    named = {name for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", page)}
    assert {"DURATION_BUCKETS", "TIMESERIES_METRICS", "VENDORS"} <= named
    modules = (reports.analytics.metrics, reports.analytics.vocabulary)
    assert sorted(name for name in named if not any(hasattr(module, name) for module in modules)) == []


def test_the_metrics_page_lists_the_vocabulary_as_it_is():
    page = (DOCS / "metrics.md").read_text(encoding="utf-8")
    for name in ("MODEL_FAMILIES", "VENDORS", "ROLES", "TOKEN_FIELDS"):
        (row,) = [line for line in page.splitlines() if line.startswith("|") and f"| `{name}` |" in line]
        listed = tuple(re.findall(r"`([a-z_]+)`", row.rsplit("|", 2)[-2]))
        assert listed == getattr(reports.analytics.vocabulary, name), name
