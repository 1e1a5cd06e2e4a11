"""Benchmark 7: the sample's full build and nightly build (one new day) on Spark against DuckDB, and what Spark's
time goes to.

Both engines build the same dbt project from the same lake: the sample of `make run` (every source), its newest
platform delivery held back for the nightly build. Each build is the `dbt build` a refresh runs (with the data
tests), timed from the command's start to its end; the loads are not timed (they are the same for both engines).
Spark's time is split by dbt's own timings (run_results.json): what comes before the first node (parsing the
project, starting the JVM), the on-run-start hook (registering the lake), then seeds, models and tests summed
over dbt's threads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration.config import Paths
from orchestration.engines import spark

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
SAMPLE_USERS, SAMPLE_DAYS = 40, 56  # the sample of `make run` (generate-sample's defaults)


def bench_spark(bench, end_date: dt.date) -> None:
    from orchestration.defs.resources import publish_lake_views
    from orchestration.ingest import agent_logs, changes, claude_code, directory, otel, platform
    from orchestration.sample import generator

    root = bench.work_dir / "spark"
    shutil.rmtree(root, ignore_errors=True)
    paths = Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )
    generator.generate_sample(
        paths.raw_dir, paths.directory, users=SAMPLE_USERS, days=SAMPLE_DAYS, seed=11, end_date=end_date
    )
    new_day = platform.delivery_dates(paths.raw_dir)[-1]
    held_back = root / "held-back"
    shutil.move(paths.raw_dir / "platform" / new_day, held_back)
    platform.load_deliveries(paths.raw_dir, paths.lake_dir, platform.delivery_dates(paths.raw_dir))
    claude_code.load_all(paths.raw_dir, paths.lake_dir)
    otel.load_all(paths.raw_dir, paths.lake_dir)
    agent_logs.load_every_format(paths.raw_dir, paths.lake_dir)
    directory.load_directory(paths.directory, paths.lake_dir)
    publish_lake_views(paths)

    full = {engine: dbt_build(paths, engine, None) for engine in ("duckdb", "spark")}
    shutil.move(held_back, paths.raw_dir / "platform" / new_day)
    platform.load_deliveries(paths.raw_dir, paths.lake_dir, [new_day])
    publish_lake_views(paths)
    nightly_vars = changes.pending(paths.lake_dir).dbt_vars()
    nightly = {engine: dbt_build(paths, engine, nightly_vars) for engine in ("duckdb", "spark")}

    title = "7 Spark vs DuckDB (sample)"
    for name, builds in (("full build", full), ("nightly, 1 new day", nightly)):
        bench.add(title, f"{name}, DuckDB", f"{builds['duckdb'].seconds:,.1f} s")
        bench.add(title, f"{name}, Spark", f"{builds['spark'].seconds:,.1f} s")
        bench.add(title, f"{name}, ratio Spark / DuckDB", f"{builds['spark'].seconds / builds['duckdb'].seconds:.1f}x")
        for phase, seconds in builds["spark"].phases.items():
            bench.add(title, f"{name}, Spark: {phase}", f"{seconds:,.1f} s", _phase_note(phase))


def _phase_note(phase: str) -> str:
    return "summed over dbt's threads" if phase in ("seeds", "models", "data and unit tests") else ""


class Build:
    def __init__(self, seconds: float, phases: dict[str, float]):
        self.seconds = seconds
        self.phases = phases


def dbt_build(paths: Paths, engine: str, dbt_vars: dict | None) -> Build:
    """One timed `dbt build` (--full-refresh without vars), as a refresh runs it on that engine."""
    from orchestration.publish import publish_warehouse, working_warehouse_ready

    target = paths.warehouse.parent / f"dbt-target-{engine}"
    env = {**os.environ, "SESSION_ANALYTICS_WORKING_WAREHOUSE": str(paths.working_warehouse)}
    env[spark.SPARK_DIR_ENV] = str(paths.warehouse.parent / "spark")
    arguments = ["build"] if dbt_vars is not None else ["build", "--full-refresh"]
    arguments += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    arguments += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if engine == "spark":
        arguments += spark.dbt_arguments(paths.lake_dir, dbt_vars)
    else:
        working_warehouse_ready(paths)
        arguments += ["--vars", json.dumps(dbt_vars)] if dbt_vars is not None else []
    started = time.time()
    completed = subprocess.run([str(Path(sys.executable).parent / "dbt"), *arguments], env=env, capture_output=True)
    seconds = time.time() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt build on {engine} failed:\n{completed.stdout.decode()[-4000:]}")
    if engine == "duckdb":
        publish_warehouse(paths)
    return Build(seconds, _phases(target / "run_results.json", started) if engine == "spark" else {})


def _phases(run_results: Path, started: float) -> dict[str, float]:
    results = json.loads(run_results.read_text())["results"]
    kinds = {"seed": "seeds", "model": "models", "test": "data and unit tests", "unit_test": "data and unit tests"}
    phases = {"before the first node (parse, JVM start)": 0.0, "lake registration (on-run-start)": 0.0}
    first = min(_started_at(result) for result in results if _started_at(result) is not None)
    phases["before the first node (parse, JVM start)"] = first - started
    for result in results:
        kind = result["unique_id"].split(".")[0]
        if kind == "operation":
            phases["lake registration (on-run-start)"] += result["execution_time"]
        elif kind in kinds:
            phases[kinds[kind]] = phases.get(kinds[kind], 0.0) + result["execution_time"]
    return phases


def _started_at(result: dict) -> float | None:
    for timing in result.get("timing", []):
        if timing.get("started_at"):
            return dt.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00")).timestamp()
    return None
