"""Alerting: the budget and anomaly alert emails after each successful refresh (reports/delivery/budget_alerts.py).

`reports/budget_alerts` reads the published warehouse (no warehouse writer pool) and emails, for every org, the
alerts due now; the ledger makes a re-run send nothing twice. The sensor starts it when a refresh run succeeds, so
alerts follow the data they are about (the CLI's `refresh` runs in-process: `session-analytics alerts` sends them).
"""

import dagster as dg

from orchestration.defs.automation import refresh_job
from orchestration.defs.resources import SessionAnalyticsPaths
from reports.analytics.query import AnalyticsQueries, connect_read_only
from reports.delivery.budget_alerts import send_alerts
from reports.weekly.paths import safe_name

ALERT_INPUTS = [dg.AssetKey(["analytics", name]) for name in ("mart_budget_status", "mart_cost_anomalies")]


@dg.asset(
    key=dg.AssetKey(["reports", "budget_alerts"]),
    deps=ALERT_INPUTS,
    group_name="reporting",
    kinds={"email"},
    description="Budget (warning, projected over, over) and large anomaly alerts emailed to the people they "
    "concern, each once (recorded in the delivery ledger's alert table).",
)
def budget_alerts(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths) -> dg.MaterializeResult:
    resolved = paths.resolve()
    with connect_read_only(resolved.warehouse) as conn:
        orgs = AnalyticsQueries(conn).org_ids()
    metadata: dict = {"ledger": dg.MetadataValue.path(str(resolved.ledger))}
    failed, failed_orgs = 0, []
    for org_id in orgs:
        key = safe_name(org_id)
        try:
            summary = send_alerts(resolved.warehouse, resolved.ledger, org_id, outbox=resolved.outbox)
        except Exception as error:  # noqa: BLE001 -- one org's failure must not stop the next orgs
            context.log.exception(f"{org_id!r}: no alerts sent: {error}")
            failed_orgs.append(org_id)
            continue
        context.log.info(summary.text())
        metadata.update({f"{key}_{outcome.replace(' ', '_')}": count for outcome, count in summary.counts.items()})
        failed += len(summary.failed)
    if failed or failed_orgs:
        raise dg.Failure(
            f"{failed} alert email(s) not delivered, {len(failed_orgs)} org(s) without alerts; see the log",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


budget_alerts_job = dg.define_asset_job(
    "budget_alerts", selection=[budget_alerts], description="Email the budget and anomaly alerts due now."
)


@dg.run_status_sensor(
    name="budget_alerts_after_refresh",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_job],
    request_job=budget_alerts_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each successful refresh run, email the alerts it made due.",
)
def budget_alerts_after_refresh(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"alerts-after-{context.dagster_run.run_id}")
