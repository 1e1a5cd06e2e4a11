"""Where the job reads and writes: every path is configurable by CLI flag and by environment variable.

Defaults are relative to the working directory so that `make run` in a fresh clone uses `data/`, except the
two that belong to one warehouse and follow it: its lake and its working file (see DERIVED_DEFAULTS).
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
    # Empty default = `<warehouse folder>/lake`: a lake records which changes its warehouse has not built yet,
    # so two warehouses must never share one by default (two runs from one folder mixed their data).
    "lake_dir": (f"{ENV_PREFIX}LAKE_DIR", ""),
    # API tokens (hashes only): a small SQLite file beside, not inside, the warehouse that refreshes replace.
    "tokens": (f"{ENV_PREFIX}TOKENS", "data/api_tokens.sqlite3"),
    # Rendered reports: <reports_dir>/<org>/<ISO week>/{users,managers,org}/<user id>.{html,pdf} + manifest.json.
    "reports_dir": (f"{ENV_PREFIX}REPORTS_DIR", "data/reports"),
    # Report emails written as .eml files when no SMTP host is configured (SESSION_ANALYTICS_SMTP_HOST).
    "outbox": (f"{ENV_PREFIX}OUTBOX", "data/outbox"),
    # What report emails were sent (SQLite): makes delivery idempotent.
    "ledger": (f"{ENV_PREFIX}LEDGER", "data/delivery_ledger.sqlite3"),
    # Where loaders and dbt build; published to `warehouse` after each successful refresh. Empty default =
    # `<warehouse folder>/.build/<warehouse file name>` (same file system, so publishing is one rename).
    "working_warehouse": (f"{ENV_PREFIX}WORKING_WAREHOUSE", ""),
}
# The settings whose default is derived from the warehouse's path (shown in the CLI's help). The others --
# tokens, reports, outbox, ledger -- are the records of a deployment about people (who may read, what was sent
# to whom), not a warehouse's build state: they outlive rebuilding or moving a warehouse, and hold nothing that
# one warehouse's build could mix into another's.
DERIVED_DEFAULTS: dict[str, str] = {
    "lake_dir": "<warehouse folder>/lake",
    "working_warehouse": "<warehouse folder>/.build/<warehouse file>",
}


@dataclass(frozen=True)
class Paths:
    raw_dir: Path
    directory: Path
    warehouse: Path
    lake_dir: Path
    tokens: Path
    reports_dir: Path
    outbox: Path
    ledger: Path
    working_warehouse: Path

    @classmethod
    def resolve(cls, **overrides: str | os.PathLike | None) -> Paths:
        """Flag value if given, else environment variable, else default; always absolute.

        A warehouse given explicitly gets its own lake and working file (derived from its path) unless they are
        given too, never ones left in the environment: those belong to the environment's warehouse (and a
        refresh exports its paths to the environment of its process)."""
        values = {}
        skip_environment = set(DERIVED_DEFAULTS) if overrides.get("warehouse") else set()
        for name, (env_var, default) in PATH_SETTINGS.items():
            from_environment = None if name in skip_environment else os.environ.get(env_var)
            value = overrides.get(name) or from_environment or default
            values[name] = Path(value).expanduser().resolve() if value else None
        published = values["warehouse"]
        if values["lake_dir"] is None:
            values["lake_dir"] = published.parent / "lake"
        if values["working_warehouse"] is None:
            values["working_warehouse"] = published.parent / ".build" / published.name
        return cls(**values)

    def export_to_environment(self) -> None:
        """Make the paths visible to subprocesses (dbt) and to the Dagster code location."""
        for name, (env_var, _) in PATH_SETTINGS.items():
            os.environ[env_var] = str(getattr(self, name))
