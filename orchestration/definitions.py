"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

import dagster as dg

from orchestration.defs import alerting, automation, ingest, publish, reporting, transform
from orchestration.defs.resources import SessionAnalyticsPaths

defs = dg.Definitions(
    assets=[
        ingest.platform_events_raw,
        ingest.claude_code_raw,
        ingest.otel_raw,
        ingest.agent_logs_raw,
        ingest.org_directory_raw,
        transform.warehouse_models,
        publish.published_warehouse,
        reporting.weekly_reports,
        reporting.weekly_delivery,
        alerting.budget_alerts,
    ],
    asset_checks=[publish.events_are_fresh],
    jobs=[automation.refresh_job, reporting.weekly_reports_job, alerting.budget_alerts_job],
    schedules=[automation.nightly_refresh_schedule, reporting.weekly_reports_schedule],
    sensors=[automation.refresh_failure_email, alerting.budget_alerts_after_refresh],
    resources={"paths": SessionAnalyticsPaths(), "dbt": transform.dbt_resource},
    # Runs launched by `dagster dev` or the daemon: each step in its own process, two at a time (two cores); the
    # `warehouse_writer` pool (limit 1, dagster.yaml) still lets one writer at a time at the warehouse. The CLI's
    # refresh runs the same job in-process (orchestration/refresh.py).
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
