"""The Dagster code location loads and has the graph the README describes."""

import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from orchestration.definitions import defs


def test_dagster_definitions_validate():
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_graph_links_loaders_to_dbt_sources_and_marts():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for key in (["raw", "platform_events"], ["raw", "directory_users"], ["analytics", "fct_sessions"], ["analytics", "mart_daily_activity"]):
        assert AssetKey(key) in keys
    staging = graph.get(AssetKey(["staging", "stg_platform__events"]))
    assert AssetKey(["raw", "platform_events"]) in staging.parent_keys
    assert graph.get(AssetKey(["raw", "platform_events"])).partitions_def is not None


def test_refresh_job_and_nightly_schedule_exist():
    assert defs.resolve_job_def("refresh") is not None
    schedule = defs.resolve_schedule_def("refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
