"""The Spark engine: where its tables live, and the lake as Spark sees it.

dbt builds on Spark through the `spark` output of dbt_project/profiles.yml (dbt-spark's session method: Spark in
the dbt process, local mode). Its settings are the project's, in that profile: UTC session time zone, exact
decimals, shuffle partitions, the metastore and table folder under the Spark dir. The lake is registered as `raw`
tables at the start of every dbt run (dbt_project/macros/portability/register_lake.sql) from the var this module
writes, which carries each dataset's schema from orchestration/ingest/lake.py, the one definition of the lake.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration.config import ENV_PREFIX, Paths
from orchestration.ingest import lake

# The Spark engine's state: the Derby metastore (metastore_db/) and the tables (tables/). Empty default =
# `<warehouse folder>/spark`, beside the DuckDB warehouse of the same deployment.
SPARK_DIR_ENV = f"{ENV_PREFIX}SPARK_DIR"
# Where Spark finds the lake, when it is not the lake's local path: a cluster reads a copy on shared storage
# (e.g. s3a://bucket/lake, kept in sync with the lake folder). Empty default = the lake folder itself.
SPARK_LAKE_URI_ENV = f"{ENV_PREFIX}SPARK_LAKE_URI"
DBT_TARGET = "spark"

# DuckDB types of lake.DATASETS -> Spark SQL types. DuckDB writes TIMESTAMP as Parquet's naive timestamp, which Spark
# reads as a timestamp in the session time zone (UTC, set by the profile): the same instants.
_SPARK_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}


def spark_dir(paths: Paths) -> Path:
    """The Spark engine's folder: SESSION_ANALYTICS_SPARK_DIR, else `spark` beside the warehouse."""
    value = os.environ.get(SPARK_DIR_ENV)
    return Path(value).expanduser().resolve() if value else paths.warehouse.parent / "spark"


def export_to_environment(paths: Paths) -> Path:
    """Make the Spark dir visible to dbt (the profile reads it); returns it."""
    folder = spark_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[SPARK_DIR_ENV] = str(folder)
    return folder


def lake_tables(lake_dir: Path) -> dict[str, dict[str, object]]:
    """The var `spark_lake`: for each lake dataset, its columns (partition columns last, as Spark orders them),
    partition columns and folder."""
    root = os.environ.get(SPARK_LAKE_URI_ENV, "").rstrip("/") or str(lake_dir.resolve())
    tables: dict[str, dict[str, object]] = {}
    for dataset, spec in lake.DATASETS.items():
        partitions: dict[str, str] = spec["partitions"]  # type: ignore[assignment]
        columns: dict[str, str] = spec["columns"]  # type: ignore[assignment]
        tables[dataset] = {
            "columns": ", ".join(
                f"{name} {_SPARK_TYPES[sql_type]}" for name, sql_type in {**columns, **partitions}.items()
            ),
            "partitioned_by": list(partitions),
            "location": f"{root}/{dataset}",
        }
    return tables


def dbt_arguments(lake_dir: Path, dbt_vars: dict[str, object] | None) -> list[str]:
    """What a dbt command on Spark adds: the target, and the lake to register (with the build's own vars)."""
    return ["--target", DBT_TARGET, "--vars", json.dumps({**(dbt_vars or {}), "spark_lake": lake_tables(lake_dir)})]
