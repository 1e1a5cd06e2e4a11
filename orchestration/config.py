"""Where the job reads and writes: every path is configurable by CLI flag and by environment variable.

Defaults are relative to the working directory so that `make run` in a fresh clone uses `data/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "SESSION_ANALYTICS_"

# name -> (environment variable, default)
PATH_SETTINGS: dict[str, tuple[str, str]] = {
    "raw_dir": (f"{ENV_PREFIX}RAW_DIR", "data/raw"),
    "directory": (f"{ENV_PREFIX}DIRECTORY", "data/directory"),
    "warehouse": (f"{ENV_PREFIX}WAREHOUSE", "data/warehouse.duckdb"),
    # The loaded raw layer: Parquet files partitioned by source and delivery date, readable by DuckDB and Spark.
    "lake_dir": (f"{ENV_PREFIX}LAKE_DIR", "data/lake"),
    # API tokens (hashes only): a small SQLite file beside, not inside, the warehouse that refreshes replace.
    "tokens": (f"{ENV_PREFIX}TOKENS", "data/api_tokens.sqlite3"),
    # Rendered reports: <reports_dir>/<org>/<ISO week>/{users,managers,org}/<user id>.{html,pdf} + manifest.json.
    "reports_dir": (f"{ENV_PREFIX}REPORTS_DIR", "data/reports"),
}


@dataclass(frozen=True)
class Paths:
    raw_dir: Path
    directory: Path
    warehouse: Path
    lake_dir: Path
    tokens: Path
    reports_dir: Path

    @classmethod
    def resolve(cls, **overrides: str | os.PathLike | None) -> "Paths":
        """Flag value if given, else environment variable, else default; always absolute."""
        values = {}
        for name, (env_var, default) in PATH_SETTINGS.items():
            value = overrides.get(name) or os.environ.get(env_var) or default
            values[name] = Path(value).expanduser().resolve()
        return cls(**values)

    def export_to_environment(self) -> None:
        """Make the paths visible to subprocesses (dbt) and to the Dagster code location."""
        for name, (env_var, _) in PATH_SETTINGS.items():
            os.environ[env_var] = str(getattr(self, name))
