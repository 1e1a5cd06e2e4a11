"""The engines dbt builds the marts on: DuckDB (the default: one machine, one file readers open) and Spark (the
same dbt project on a Spark session or cluster; see docs/spark.md). A refresh picks one (`refresh --engine`, or
SESSION_ANALYTICS_ENGINE for the Dagster code location)."""

from __future__ import annotations

import os

from orchestration.config import ENV_PREFIX

DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)
ENGINE_ENV = f"{ENV_PREFIX}ENGINE"


def current() -> str:
    """The engine of this process: SESSION_ANALYTICS_ENGINE, default DuckDB."""
    engine = os.environ.get(ENGINE_ENV) or DUCKDB
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}={engine!r} is not one of {', '.join(ENGINES)}")
    return engine


def export_to_environment(engine: str) -> None:
    """Make the engine visible to the code location's assets (the refresh runs them in this process)."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    os.environ[ENGINE_ENV] = engine
