"""The Dagster code location loads and has the graph the README describes."""

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from orchestration.definitions import defs


def test_dagster_definitions_validate():
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_graph_links_loaders_to_dbt_sources_and_marts():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for key in (
        ["raw", "platform_events"],
        ["raw", "directory_users"],
        ["analytics", "fct_sessions"],
        ["analytics", "mart_daily_activity"],
    ):
        assert AssetKey(key) in keys
    staging = graph.get(AssetKey(["staging", "stg_platform__events"]))
    assert AssetKey(["raw", "platform_events"]) in staging.parent_keys
    assert graph.get(AssetKey(["raw", "platform_events"])).partitions_def is not None


def test_refresh_job_and_nightly_schedule_exist():
    assert defs.resolve_job_def("refresh") is not None
    schedule = defs.resolve_schedule_def("refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"


def test_production_automation_is_present():
    schedule = defs.resolve_schedule_def("refresh_schedule")
    assert schedule.job_name == "refresh" and schedule.execution_timezone == "UTC"
    assert defs.resolve_sensor_def("refresh_failure_email") is not None
    graph = defs.resolve_asset_graph()
    published = AssetKey(["warehouse", "published"])
    assert AssetKey(["analytics", "mart_daily_activity"]) in graph.get(published).parent_keys
    check_names = {key.name for key in graph.asset_check_keys}
    assert {
        "events_are_fresh",
        "assert_cost_reconciles_across_marts",
        "assert_request_tokens_reconcile_with_raw_events",
    } <= check_names
    # Every asset that writes the warehouse is in the one writer pool; the freshness check only reads the
    # published copy.
    job = defs.resolve_job_def("refresh")
    pools = {node.name: node.definition.pool for node in job.graph.node_dict.values()}
    assert {name for name, pool in pools.items() if pool != "warehouse_writer"} == {
        "warehouse__published_events_are_fresh"
    }, pools
    assert {"platform_events_raw", "warehouse_models", "warehouse__published"} <= set(pools)


def test_schedule_time_and_zone_come_from_the_environment():
    code = (
        "from orchestration.definitions import defs; s = defs.resolve_schedule_def('refresh_schedule'); "
        "print(s.cron_schedule, s.execution_timezone)"
    )
    env = {
        **os.environ,
        "SESSION_ANALYTICS_SCHEDULE_TIMEZONE": "Europe/Berlin",
        "SESSION_ANALYTICS_NIGHTLY_TIME": "03:30",
    }
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert completed.stdout.split() == ["30", "3", "*", "*", "*", "Europe/Berlin"], completed.stderr[-2000:]
    env["SESSION_ANALYTICS_SCHEDULE_TIMEZONE"] = "Mars/Olympus"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert completed.returncode != 0 and "is not an IANA time zone" in completed.stderr


def test_the_weekly_job_renders_then_emails_the_reports():
    graph = defs.resolve_asset_graph()
    reports, delivery = AssetKey(["reports", "weekly_reports"]), AssetKey(["reports", "weekly_delivery"])
    assert graph.get(delivery).parent_keys == {reports}
    assert graph.get(delivery).partitions_def == graph.get(reports).partitions_def
    job = defs.resolve_job_def("weekly_reports")
    assert set(job.asset_layer.asset_graph.get_all_asset_keys()) >= {reports, delivery}
    assert defs.resolve_schedule_def("weekly_reports_schedule").job_name == "weekly_reports"
