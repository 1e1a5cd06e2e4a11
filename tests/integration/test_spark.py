"""The same dbt project on Spark: on one lake, a full build, a nightly build with one new day and a nightly build
with nothing new give, in every `analytics` table, the same rows on Spark as on DuckDB (money exactly).

Spark is real: dbt-spark's session method (Spark in local mode inside dbt, Java 17 from the machine image), the
`spark` output of dbt_project/profiles.yml, the lake registered as `raw` tables by each build itself, with the
arguments a refresh on Spark passes (orchestration/engines/spark.py). The three Spark builds run in one child
process (tests/fixtures/spark_dbt.py: one JVM, as a long-lived Spark session would); the full build runs every data
and unit test on Spark, the nightly builds leave them out (the same SQL again, a third of a build's time), their
rows being compared with DuckDB's, whose builds all run every test. `session-analytics refresh --engine spark` end
to end (loaders, Dagster, dbt in its own JVM) is the opt-in test at the end (`make test-spark`).

Spark's tables are read from the Parquet files Spark wrote, by DuckDB (a second JVM would need the Derby metastore
the Spark process holds): a dropped partition's folder is gone, an overwritten one holds only new files.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.resources import publish_lake_views
from orchestration.engines import spark
from orchestration.ingest import changes, platform
from orchestration.sample.generator import generate_sample
from tests.fixtures.spark_dbt import SparkDbt
from tests.fixtures.warehouse import WITHOUT_DBT_TESTS, load_sources, run_dbt, test_paths

USERS, DAYS = 8, 4  # the generator's smallest org; the newest of the days is the nightly's new day
FLOAT_DIGITS = 9  # doubles (durations) are summed in another order on each engine; decimals (money) are exact
INCREMENTAL = ("fct_sessions", "fct_model_requests", "mart_daily_activity", "mart_daily_model_costs")
# Tables the small sample fills (others, such as anomalies, may be empty on both engines).
MUST_HAVE_ROWS = (*INCREMENTAL, "dim_users", "dim_models", "dim_date", "mart_session_starts")


def spark_tables_dir(root: Path) -> Path:
    return root / "spark" / "tables" / "analytics.db"


def analytics_rows(root: Path, engine: str) -> dict[str, list[tuple]]:
    """Every analytics table of one engine, in DuckDB's column order, sorted; doubles rounded."""
    with duckdb.connect() as conn:
        conn.execute(f"attach '{root / 'warehouse.duckdb'}' as warehouse (read_only)")
        names = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'warehouse' and table_schema = 'analytics' order by 1"
            ).fetchall()
        ]
        if engine == "spark":
            assert sorted(path.name for path in spark_tables_dir(root).iterdir() if path.is_dir()) == names
        tables = {}
        for name in names:
            columns = conn.execute(
                "select column_name, data_type from information_schema.columns where table_catalog = 'warehouse' "
                f"and table_schema = 'analytics' and table_name = '{name}' order by ordinal_position"
            ).fetchall()
            select = ", ".join(
                f"round({column}, {FLOAT_DIGITS})" if data_type == "DOUBLE" else column for column, data_type in columns
            )
            if engine == "duckdb":
                source = f"warehouse.analytics.{name}"
            else:
                folder = spark_tables_dir(root) / name
                partitioned_by = {path.name.split("=")[0] for path in folder.glob("*=*")}
                hive = ", ".join(f"'{column}': {kind}" for column, kind in columns if column in partitioned_by)
                options = f", hive_partitioning = true, hive_types = {{{hive}}}" if hive else ""
                source = f"read_parquet('{folder}/**/*.parquet'{options})"
                if not list(folder.rglob("*.parquet")):  # an empty partitioned table has no files
                    tables[name] = []
                    continue
            tables[name] = sorted(conn.execute(f"select {select} from {source}").fetchall(), key=repr)
        return tables


def partition_files(root: Path, table: str) -> dict[str, list[str]]:
    """Spark's data files of one table, by partition folder."""
    folder = spark_tables_dir(root) / table
    return {
        partition.name: sorted(file.name for file in partition.glob("*.parquet"))
        for partition in sorted(folder.iterdir())
        if partition.is_dir()
    }


def spark_environment(root: Path) -> dict[str, str]:
    return {**os.environ, spark.SPARK_DIR_ENV: str(root / "spark")}


def small_lake(root: Path):
    """A small sample with its newest platform delivery held back (the nightly's new day): paths, new day, folder."""
    paths = test_paths(root)
    generate_sample(paths.raw_dir, paths.directory, users=USERS, days=DAYS, seed=5)
    new_day = platform.delivery_dates(paths.raw_dir)[-1]
    held_back = root / "held-back"
    shutil.move(paths.raw_dir / "platform" / new_day, held_back)
    return paths, new_day, held_back


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Both engines' tables after each of the three builds on one lake (run in order)."""
    root = tmp_path_factory.mktemp("spark")
    paths, new_day, held_back = small_lake(root)
    states: dict[str, dict] = {}
    with SparkDbt(root / "spark", paths.lake_dir, root / "dbt-target-spark") as spark_dbt:
        # Full build: everything the lake holds, every data and unit test on both engines.
        load_sources(paths)
        built = changes.pending(paths.lake_dir)
        spark_dbt.build(None)
        run_dbt(paths, "build", "--full-refresh")
        changes.mark_built(paths.lake_dir, built)  # as a successful refresh does
        states["full"] = _state(root)

        # Nightly: the new day's delivery is loaded, and both engines build the batches it changed.
        shutil.move(held_back, paths.raw_dir / "platform" / new_day)
        platform.load_deliveries(paths.raw_dir, paths.lake_dir, [new_day])
        publish_lake_views(paths)
        nightly_vars = changes.pending(paths.lake_dir).dbt_vars()
        assert nightly_vars == {"changed_batches": {"platform": [new_day]}}
        run_dbt(paths, "build", "--vars", json.dumps(nightly_vars))
        spark_dbt.build(nightly_vars, *WITHOUT_DBT_TESTS)
        states["nightly"] = _state(root)
        with duckdb.connect(str(paths.warehouse), read_only=True) as conn:  # the same SQL on both engines
            days = conn.execute("select distinct activity_date from intermediate.int_days_affected").fetchall()
        # As Spark names the partitions (a null day is Hive's default partition).
        states["nightly"]["days_affected"] = {
            "__HIVE_DEFAULT_PARTITION__" if day is None else str(day) for (day,) in days
        }

        # A second nightly with nothing new.
        run_dbt(paths, "build", "--vars", json.dumps({"changed_batches": {}}))
        spark_dbt.build({"changed_batches": {}}, *WITHOUT_DBT_TESTS)
        states["again"] = _state(root)
    return {"root": root, "new_day": new_day, **states}


def _state(root: Path) -> dict:
    return {
        "duckdb": analytics_rows(root, "duckdb"),
        "spark": analytics_rows(root, "spark"),
        "files": {table: partition_files(root, table) for table in INCREMENTAL},
    }


def assert_same_rows(state: dict) -> None:
    duckdb_rows, spark_rows = state["duckdb"], state["spark"]
    assert sorted(spark_rows) == sorted(duckdb_rows)
    for name in MUST_HAVE_ROWS:
        assert duckdb_rows[name], f"{name} is empty: the comparison would prove nothing"
    for name, rows in duckdb_rows.items():
        only_duckdb = set(rows) - set(spark_rows[name])
        only_spark = set(spark_rows[name]) - set(rows)
        assert not only_duckdb and not only_spark, (
            f"{name}: {len(only_duckdb)} rows only on DuckDB, e.g. {sorted(only_duckdb, key=repr)[:2]}; "
            f"{len(only_spark)} only on Spark, e.g. {sorted(only_spark, key=repr)[:2]}"
        )
        assert len(spark_rows[name]) == len(rows), f"{name}: duplicated rows"


def test_a_full_build_on_spark_has_duckdbs_rows_in_every_analytics_table(builds):
    assert_same_rows(builds["full"])


def test_a_nightly_build_with_one_new_day_on_spark_has_duckdbs_rows(builds):
    assert_same_rows(builds["nightly"])
    full, nightly = builds["full"]["duckdb"], builds["nightly"]["duckdb"]
    assert len(nightly["fct_model_requests"]) > len(full["fct_model_requests"])  # the new day was built


def test_the_nightly_build_on_spark_rewrites_only_the_days_it_touches(builds):
    """insert_overwrite of day partitions: a day outside the window (int_days_affected) keeps the full build's
    files; a day inside it that has rows has new files (the new delivery's events fall on the days before it)."""
    touched = builds["nightly"]["days_affected"]
    assert touched, "the nightly window touched no day"
    for table in INCREMENTAL:
        before, after = builds["full"]["files"][table], builds["nightly"]["files"][table]
        days = {partition: partition.split("=", 1)[1] for partition in after}
        untouched = [partition for partition, day in days.items() if day not in touched]
        assert untouched, f"{table}: every day was in the window, so this shows nothing"
        for partition in untouched:
            assert after[partition] == before[partition], f"{table}: {partition} was rewritten"
        for partition in set(days) - set(untouched):
            kept = set(after[partition]) & set(before.get(partition, []))
            assert not kept, f"{table}: {partition} kept the full build's files"


def test_a_second_nightly_with_nothing_new_changes_nothing(builds):
    assert_same_rows(builds["again"])
    assert builds["again"]["spark"] == builds["nightly"]["spark"]
    assert builds["again"]["files"] == builds["nightly"]["files"]  # not a file rewritten


def test_money_is_decimal_on_spark(builds):
    """Spark keeps the contracts' decimal types (with precision loss allowed it rounded each cost to 6 places)."""
    with duckdb.connect() as conn:
        folder = spark_tables_dir(builds["root"]) / "fct_model_requests"
        ((cost_type,),) = conn.execute(
            f"select typeof(cost_usd) from read_parquet('{folder}/**/*.parquet', hive_partitioning = true) limit 1"
        ).fetchall()
    assert cost_type == "DECIMAL(38,12)"


@pytest.mark.skipif(
    not os.environ.get("SESSION_ANALYTICS_SPARK_TESTS"),
    reason="opt-in (make test-spark): a refresh starts its own JVM, 3 more minutes on two cores",
)
def test_refresh_on_spark_loads_and_builds_end_to_end(tmp_path):
    """`session-analytics refresh --engine spark`: the loaders, Dagster's dbt asset with the Spark target (every
    data test), the lake's changes marked built; its tables equal DuckDB's build of the same lake."""
    paths, _, _ = small_lake(tmp_path)
    flags = {"--raw-dir": paths.raw_dir, "--directory": paths.directory, "--warehouse": paths.warehouse}
    command = [sys.executable, "-m", "orchestration.cli", "refresh", "--engine", "spark", "--lake-dir", paths.lake_dir]
    command += [part for flag, value in flags.items() for part in (flag, value)]
    refresh = subprocess.run(
        [str(part) for part in command], env=spark_environment(tmp_path), capture_output=True, text=True
    )
    assert refresh.returncode == 0, (
        f"refresh --engine spark failed:\n{refresh.stdout[-4000:]}\n{refresh.stderr[-6000:]}"
    )
    assert json.loads(refresh.stdout)["engine"] == "spark"
    assert changes.pending(paths.lake_dir).is_empty()  # the Spark build absorbed the lake's changes
    publish_lake_views(paths)
    run_dbt(paths, "build", "--full-refresh")
    assert_same_rows(_state(tmp_path))
