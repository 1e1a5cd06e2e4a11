"""Resources shared by the asset modules: where the data lives, and the warehouse writer."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration import engines
from orchestration.config import Paths
from orchestration.ingest import lake
from orchestration.publish import working_warehouse_ready

# Every asset that writes the warehouse file runs in this pool; its limit is 1 (see dagster.yaml), because a
# DuckDB file has one writer at a time.
WAREHOUSE_WRITER_POOL = "warehouse_writer"


class SessionAnalyticsPaths(dg.ConfigurableResource):
    """Paths of the raw files, directory, lake and warehouse; empty values fall back to the environment
    variables and defaults of orchestration.config (the same ones the CLI uses)."""

    raw_dir: str = ""
    directory: str = ""
    warehouse: str = ""
    lake_dir: str = ""
    reports_dir: str = ""
    outbox: str = ""
    ledger: str = ""
    working_warehouse: str = ""

    def resolve(self) -> Paths:
        return Paths.resolve(
            raw_dir=self.raw_dir or None,
            directory=self.directory or None,
            warehouse=self.warehouse or None,
            lake_dir=self.lake_dir or None,
            reports_dir=self.reports_dir or None,
            outbox=self.outbox or None,
            ledger=self.ledger or None,
            working_warehouse=self.working_warehouse or None,
        )


def publish_lake_views(paths: Paths) -> None:
    """Point the working warehouse's `raw` views at the lake files (the sources of the dbt project). On Spark, the
    dbt build registers the lake itself (dbt_project/macros/portability/register_lake.sql)."""
    if engines.current() == engines.SPARK:
        return
    with duckdb.connect(str(working_warehouse_ready(paths))) as warehouse:
        lake.register_views(warehouse, paths.lake_dir)
