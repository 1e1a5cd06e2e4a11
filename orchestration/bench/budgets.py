"""Benchmark `budgets`: how good the budget forecast is, backtested on the sample's history (docs/budgets.md).

The sample (40 people, 120 days, all sources) is generated and refreshed with a budget for every acme team and person,
month and ISO week. `analytics.mart_budget_status` then holds each budget's forecast as it stood at the end of every
day; for each period that lies wholly in the history, each day's forecast is compared with the period's final
spend. The figures are the median absolute error (USD, and as a share of the final spend) over those forecasts, by
period kind, and the same at the period's halfway day. Accuracy, not speed: the figures do not depend on the machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.config import PATH_SETTINGS, Paths

BENCHMARK = "9 budget forecast backtest"
USERS, DAYS, SEED = 40, 120, 11


def bench_budgets(bench, end_date: dt.date) -> None:
    """`bench` is benchmark.Bench (its `work_dir` and `add`)."""
    root = bench.work_dir / "budgets"
    if root.exists():
        shutil.rmtree(root)
    paths = Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )
    env = {**os.environ, **{env_var: str(getattr(paths, name)) for name, (env_var, _) in PATH_SETTINGS.items()}}
    env["SESSION_ANALYTICS_DEFAULT_ORG"] = "acme"
    cli = [sys.executable, "-m", "orchestration.cli"]
    sample = ["generate-sample", "--users", str(USERS), "--days", str(DAYS), "--seed", str(SEED)]
    subprocess.run([*cli, *sample, "--end-date", end_date.isoformat()], env=env, check=True, capture_output=True)
    _write_every_budget(paths.directory)
    subprocess.run([*cli, "refresh"], env=env, check=True, capture_output=True)
    for period, errors, halfway in backtest(paths.warehouse):
        if not errors:
            continue
        bench.add(
            BENCHMARK,
            f"{period}: median absolute error",
            f"${statistics.median(e for e, _ in errors):.2f}",
            f"{statistics.median(s for _, s in errors):.0%} of the final spend, {len(errors)} forecasts",
        )
        if halfway:
            bench.add(
                BENCHMARK,
                f"{period}: at the halfway day",
                f"${statistics.median(e for e, _ in halfway):.2f}",
                f"{statistics.median(s for _, s in halfway):.0%} of the final spend, {len(halfway)} periods",
            )


def backtest(warehouse: Path) -> list[tuple[str, list[tuple[float, float]], list[tuple[float, float]]]]:
    """Per period kind: (absolute error, error / final spend) of every forecast made before a complete period's
    last day, and of those made on its halfway day. Periods with no spend are left out (no error to scale)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            """
            with finals as (
                select budget_key, period_start, spend_usd as final_usd
                from analytics.mart_budget_status
                where is_period_complete and spend_usd > 0
                    and period_start >= (select min(as_of_date) from analytics.mart_budget_status)
            )
            select status.period, status.days_elapsed, status.days_in_period,
                   cast(abs(status.forecast_usd - finals.final_usd) as double),
                   cast(finals.final_usd as double)
            from analytics.mart_budget_status as status
            inner join finals
                on status.budget_key = finals.budget_key and status.period_start = finals.period_start
            where not status.is_period_complete
            """
        ).fetchall()
    result = []
    for period in ("month", "week"):
        errors = [(error, error / final) for kind, _, _, error, final in rows if kind == period]
        halfway = [
            (error, error / final)
            for kind, elapsed, length, error, final in rows
            if kind == period and elapsed == (length + 1) // 2
        ]
        result.append((period, errors, halfway))
    return result


def _write_every_budget(directory: Path) -> None:
    """A month and a week budget for every acme team and person (the amounts do not change the forecast)."""
    with open(directory / "users.csv", encoding="utf-8", newline="") as handle:
        users = [row for row in csv.DictReader(handle) if row["org_id"] == "acme"]
    scopes = sorted({("team", row["team"]) for row in users if row["team"]}) + [
        ("user", row["user_id"]) for row in users
    ]
    with open(directory / "budgets.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("org_id", "scope", "scope_id", "period", "amount_usd", "warn_at"))
        for scope, scope_id in scopes:
            for period in ("month", "week"):
                writer.writerow(("acme", scope, scope_id, period, "1000", ""))
