"""The code location's refresh job under the multiprocess executor, as `dagster dev` and the daemon launch it: each
step in its own process, on a real Dagster instance with the project's dagster.yaml, whose `warehouse_writer` pool
(limit 1) lets one writer at a time at the warehouse. The CLI's refresh runs the same job in-process.

A step process starts by loading the code location (5 to 25 s on two busy cores), so the run selects the platform
and directory loaders, dbt and publish (the other loaders' steps are the same kind of step) on a lake of
platform events and the directory only."""

import os
import shutil

import dagster as dg
import duckdb

from orchestration.config import PATH_SETTINGS, Paths
from orchestration.defs.partitions import PARTITION_RANGE_END, PARTITION_RANGE_START, delivery_range
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL
from orchestration.ingest import changes
from orchestration.sample.generator import generate_sample
from tests.fixtures import REPO
from tests.fixtures.warehouse import test_paths


def selected_assets() -> list[dg.AssetKey]:
    from orchestration.defs import ingest, publish, transform

    chosen = (
        ingest.platform_events_raw,
        ingest.org_directory_raw,
        transform.warehouse_models,
        publish.published_warehouse,
    )
    return sorted({key for assets in chosen for key in assets.keys})


def refresh_job() -> dg.JobDefinition:
    """The code location's refresh job, with its own executor (the multiprocess one), rebuilt in each step process."""
    from orchestration.definitions import defs

    return defs.resolve_job_def("refresh")


def test_the_refresh_job_runs_with_the_multiprocess_executor_one_writer_at_a_time(tmp_path, monkeypatch):
    paths: Paths = test_paths(tmp_path / "deployment")
    generate_sample(paths.raw_dir, paths.directory, users=8, days=3, seed=3)
    for name, (variable, _) in PATH_SETTINGS.items():  # the step processes resolve their paths from these
        monkeypatch.setenv(variable, str(getattr(paths, name)))
    home = tmp_path / "dagster-home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    start, end = delivery_range(paths)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        job = refresh_job()
        assert isinstance(job.executor_def, dg.ExecutorDefinition) and job.executor_def.name == "multiprocess"
        with dg.execute_job(
            dg.reconstructable(refresh_job),
            instance=instance,
            tags={PARTITION_RANGE_START: start, PARTITION_RANGE_END: end},
            asset_selection=selected_assets(),
        ) as result:
            assert result.success, [event.message for event in result.all_events if event.is_failure]
        records = instance.get_records_for_run(result.run_id).records

    # each writer step's start and end (time, process), from the run's event log
    steps = {}
    for record in records:
        entry = record.event_log_entry
        kind = entry.dagster_event.event_type_value if entry.dagster_event else None
        if entry.step_key and kind in ("STEP_START", "STEP_SUCCESS"):
            steps.setdefault(entry.step_key, {})[kind] = entry
    writers = sorted(step for step in steps if not step.endswith("events_are_fresh"))
    assert writers == ["org_directory_raw", "platform_events_raw", "warehouse__published", "warehouse_models"]
    # each step in a process of its own, none in this one
    pids = {steps[step]["STEP_START"].dagster_event.pid for step in writers}
    assert len(pids) == len(writers) and os.getpid() not in pids
    # one writer at a time: no two writer steps' runs overlap
    spans = sorted(
        (steps[step]["STEP_START"].timestamp, steps[step]["STEP_SUCCESS"].timestamp, step) for step in writers
    )
    for (_, first_end, first), (second_start, _, second) in zip(spans, spans[1:]):
        assert second_start >= first_end, f"{second} started before {first} ended ({WAREHOUSE_WRITER_POOL} pool)"

    # the run did the refresh's work: the published warehouse has the sample's requests, the lake's changes built
    assert changes.pending(paths.lake_dir).is_empty()
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        ((requests,),) = conn.execute("select count(*) from analytics.fct_model_requests").fetchall()
    assert requests > 0
