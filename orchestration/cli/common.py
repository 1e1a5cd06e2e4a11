"""What several commands share: the path flags, argument types, and the plain-text table of an answer."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from typing import Any

from orchestration.config import DERIVED_DEFAULTS, PATH_SETTINGS, Paths


def add_path_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        env_var, default = PATH_SETTINGS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=name, help=f"default: ${env_var} or {default or DERIVED_DEFAULTS[name]}"
        )


def add_reports_dir_flag(parser: argparse.ArgumentParser) -> None:
    env_var, default = PATH_SETTINGS["reports_dir"]
    parser.add_argument("--output-dir", dest="reports_dir", help=f"reports folder; default: ${env_var} or {default}")


def paths_of(args: argparse.Namespace) -> Paths:
    return Paths.resolve(**{name: getattr(args, name, None) for name in PATH_SETTINGS})


def logs_on_stderr():
    """While a refresh runs, what it prints (dagster-dbt echoes dbt's log lines) goes to stderr: stdout carries
    only the run summary, one JSON object a script can parse."""
    return contextlib.redirect_stdout(sys.stderr)


def render_table(answer: dict[str, Any]) -> str:
    """A plain-text rendering: scalars as `name: value`, each list of objects as an aligned table."""
    blocks: list[str] = []
    scalars = [(key, value) for key, value in answer.items() if not isinstance(value, list)]
    if scalars:
        width = max(len(key) for key, _ in scalars)
        blocks.append("\n".join(f"{key:<{width}}  {_cell(value)}" for key, value in scalars))
    for key, rows in answer.items():
        if not isinstance(rows, list):
            continue
        if not rows:
            blocks.append(f"{key}: (none)")
            continue
        headers = list(rows[0])
        cells = [[_cell(row[h]) for h in headers] for row in rows]
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
        blocks.append(f"{key}:\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


def week(text: str):
    from reports.analytics.weeks import ReportWeek

    try:
        return ReportWeek.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
