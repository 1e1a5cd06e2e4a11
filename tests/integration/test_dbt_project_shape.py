"""The dbt project's shape: what analysts query is documented (every mart column described, each mart's grain
stated) and typed (enforced contracts), the pricing and session rules have unit tests, and the read side's
tables are in exposures; read from the manifest of a real `dbt parse` and from a real warehouse's
information_schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.fixtures import REPO

DBT_PROJECT_DIR = REPO / "dbt_project"
MART_PREFIXES = ("fct_", "dim_", "mart_")


def run_dbt(target: Path, *args: str) -> subprocess.CompletedProcess:
    """dbt on the project, writing into `target` (not the project's own target/, which Dagster reads)."""
    env = {**os.environ, "SESSION_ANALYTICS_WORKING_WAREHOUSE": str(target / "unused.duckdb")}
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("dbt-parse")
    parsed = run_dbt(target, "parse", "--quiet")
    assert parsed.returncode == 0, parsed.stdout[-4000:] + parsed.stderr[-2000:]
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def marts(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith(MART_PREFIXES)
    }


def test_every_mart_states_its_grain(manifest):
    found = marts(manifest)
    assert len(found) >= 11
    for name, node in found.items():
        assert node["description"].startswith("Grain: one row per"), name


def test_every_documented_mart_column_has_a_description(manifest):
    for name, node in marts(manifest).items():
        undescribed = [column for column, spec in node["columns"].items() if not spec["description"].strip()]
        assert not undescribed, f"{name}: columns without a description: {undescribed}"


def test_every_mart_has_an_enforced_contract_with_a_type_per_column(manifest):
    """A build whose SQL yields other columns or types than the YAML fails (the incremental marts keep
    on_schema_change='fail', as an enforced contract requires)."""
    for name, node in marts(manifest).items():
        assert node["config"]["contract"]["enforced"], name
        untyped = [column for column, spec in node["columns"].items() if not spec.get("data_type")]
        assert not untyped, f"{name}: columns without a data_type: {untyped}"
        if node["config"]["materialized"] == "incremental":
            assert node["config"]["on_schema_change"] in ("fail", "append_new_columns"), name


def test_every_mart_column_in_the_warehouse_is_documented(manifest, report_warehouse):
    """The columns the built marts really have are those the YAML describes, in the same order and of the
    declared types."""
    documented = {
        name: [(column, spec["data_type"].replace(" ", "").upper()) for column, spec in node["columns"].items()]
        for name, node in marts(manifest).items()
    }
    connection = duckdb.connect(str(report_warehouse.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'analytics' order by table_name, ordinal_position"
        ).fetchall()
    finally:
        connection.close()
    built: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        built.setdefault(table, []).append((column, data_type.replace(" ", "").upper()))
    assert set(built) == set(documented)
    for table, columns in built.items():
        assert documented[table] == columns, table


def test_the_pricing_and_session_rules_have_unit_tests(manifest):
    """Long-context pricing, the 5m cache-write fallback and "earliest start wins" are specified as dbt
    unit tests (dbt_project/models/intermediate/_intermediate__models.yml); every `dbt build` runs them."""
    unit_tests = {(test["model"], test["name"]) for test in manifest["unit_tests"].values()}
    assert unit_tests >= {
        ("int_model_requests_priced", "long_context_request_priced_entirely_at_long_context_rates"),
        ("int_model_requests_priced", "cache_writes_without_a_split_priced_as_5m_writes"),
        ("int_platform_sessions_conformed", "earliest_platform_start_event_wins"),
        ("int_sessions_assembled", "earliest_start_over_every_source_wins"),
    }


def test_every_mart_the_read_side_queries_is_in_an_exposure(manifest):
    """exposures.yml names the CLI, the weekly reports and the API with the tables they read: every
    `analytics.<table>` and `staging.<table>` the read side's code names is a dependency of some exposure."""
    exposures = {node["name"]: node for node in manifest["exposures"].values()}
    assert {"analytics_cli", "weekly_reports", "analytics_api"} <= set(exposures)
    exposed = {
        manifest["nodes"][unique_id]["name"] for node in exposures.values() for unique_id in node["depends_on"]["nodes"]
    }
    read_side = [
        *(REPO / "reports").rglob("*.py"),
        *(REPO / "orchestration").rglob("cli*.py"),
        *(REPO / "orchestration" / "cli").rglob("*.py"),
    ]
    named = {
        table
        for path in read_side
        for table in re.findall(
            r"\b(?:analytics|staging)\.((?:fct|dim|mart|stg)_\w+)", path.read_text(encoding="utf-8")
        )
    }
    assert named, "the read side names no table: has the query layer moved?"
    assert named <= exposed, f"read but in no exposure: {sorted(named - exposed)}"


def test_intermediate_models_follow_one_naming_scheme(manifest):
    """int_[<source>_]<entity>s_<verb>ed[_by_<key>], e.g. int_platform_sessions_conformed, int_sessions_assembled,
    int_users_resolved_by_email (dbt Labs' structure guide)."""
    names = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "intermediate"
    ]
    assert names
    scheme = re.compile(r"int_[a-z0-9]+(_[a-z0-9]+)*s_[a-z]+ed(_by_[a-z_]+)?")
    assert [name for name in names if not scheme.fullmatch(name) or "__" in name] == []
