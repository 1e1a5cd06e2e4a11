"""Publish: after a successful build, the working warehouse becomes the file every reader opens."""

import datetime as dt
import os

import dagster as dg

from orchestration import engines
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, SessionAnalyticsPaths
from orchestration.defs.transform import warehouse_models
from orchestration.publish import forget_published_changes, publish_warehouse

PUBLISHED_WAREHOUSE = dg.AssetKey(["warehouse", "published"])
FRESHNESS_ENV = "SESSION_ANALYTICS_FRESHNESS_HOURS"
DEFAULT_FRESHNESS_HOURS = 36.0


@dg.asset(
    key=PUBLISHED_WAREHOUSE,
    deps=list(warehouse_models.keys),
    pool=WAREHOUSE_WRITER_POOL,
    group_name="publish",
    kinds={"duckdb"},
    description="The read-only copy of the warehouse that analysts, reports and the API open "
    "(SESSION_ANALYTICS_WAREHOUSE). Replaced atomically after every successful build; a failed run never "
    "publishes.",
)
def published_warehouse(context: dg.AssetExecutionContext, paths: SessionAnalyticsPaths) -> dg.MaterializeResult:
    resolved = paths.resolve()
    if engines.current() == engines.SPARK:
        # The marts are Spark tables, written in place by the build (see docs/spark.md): nothing to publish.
        context.log.info("engine: Spark; the DuckDB warehouse %s is left as it was", resolved.warehouse)
        return dg.MaterializeResult(metadata={"engine": engines.SPARK})
    published = publish_warehouse(resolved)
    forget_published_changes(resolved)
    context.log.info("published %s to %s", resolved.working_warehouse, published)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(published)), "bytes": published.stat().st_size}
    )


@dg.asset_check(asset=PUBLISHED_WAREHOUSE, name="events_are_fresh", blocking=False)
def events_are_fresh(paths: SessionAnalyticsPaths) -> dg.AssetCheckResult:
    """The newest event in the published warehouse is at most SESSION_ANALYTICS_FRESHNESS_HOURS (default 36)
    hours old: a stalled delivery shows up the morning after, not at the next weekly report."""
    from reports.analytics.query import connect_read_only

    limit_hours = float(os.environ.get(FRESHNESS_ENV) or DEFAULT_FRESHNESS_HOURS)
    warehouse = paths.resolve().warehouse
    if not warehouse.exists():
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description=f"no published warehouse at {warehouse}"
        )
    with connect_read_only(warehouse) as conn:
        ((latest,),) = conn.execute("select max(last_event_at_utc) from analytics.fct_sessions").fetchall()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if latest is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="the warehouse holds no events",
            metadata={"limit_hours": limit_hours},
        )
    lag_hours = (now - latest).total_seconds() / 3600
    return dg.AssetCheckResult(
        passed=lag_hours <= limit_hours,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest_event_at_utc": latest.isoformat(),
            "lag_hours": round(lag_hours, 2),
            "limit_hours": limit_hours,
        },
    )
