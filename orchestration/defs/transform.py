"""Transform: the dbt project (staging -> intermediate -> marts), with dbt tests as asset checks."""

import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration import engines
from orchestration.dbt_child import PARENT_PID_ENV
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, SessionAnalyticsPaths
from orchestration.engines import spark
from orchestration.ingest import changes
from orchestration.publish import record_built, working_warehouse_ready

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on start; elsewhere the manifest is built once (make, or here if it is missing).
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt models in the Dagster UI by their layer folder (staging, intermediate, marts)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "marts"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True)),
    pool=WAREHOUSE_WRITER_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: SessionAnalyticsPaths):
    """dbt build into the working warehouse. Incremental models rebuild only the sessions and days of the
    batches loaded since the last published build; a changed directory or `refresh --full` rebuilds all."""
    resolved = paths.resolve()
    resolved.export_to_environment()  # the dbt subprocess reads the working warehouse path from it
    pending = changes.pending(resolved.lake_dir)
    dbt_vars = None if pending.full_rebuild else pending.dbt_vars()
    arguments = ["build", "--full-refresh"] if pending.full_rebuild else ["build"]
    context.log.info(
        "full rebuild of every model"
        if pending.full_rebuild
        else f"incremental build of the changed batches: {pending.batches}"
    )
    os.environ[PARENT_PID_ENV] = str(os.getpid())  # dbt dies with this process (orchestration/dbt_child.py)
    if engines.current() == engines.SPARK:
        yield from _build_on_spark(context, dbt, resolved, pending, arguments, dbt_vars)
        return
    working_warehouse_ready(resolved)  # the last publish moved the working file: start from its copy
    if dbt_vars is not None:
        arguments += ["--vars", json.dumps(dbt_vars)]
    yield from dbt.cli(arguments, context=context).stream()
    record_built(resolved, pending)  # no longer pending once this build is published


def _build_on_spark(context, dbt, resolved, pending, arguments, dbt_vars):
    """dbt build on Spark (the profile's `spark` output): the tables are written in place, so the changes are
    built once dbt succeeds; a failed build may have rewritten some tables, so it asks for a full rebuild."""
    context.log.info("engine: Spark, tables in %s", spark.export_to_environment(resolved))
    try:
        yield from dbt.cli(arguments + spark.dbt_arguments(resolved.lake_dir, dbt_vars), context=context).stream()
    except Exception:
        changes.record_full_rebuild(resolved.lake_dir)
        raise
    changes.mark_built(resolved.lake_dir, pending)


def _dbt_executable() -> str:
    """`session-analytics-dbt` (dbt as a child that dies with this process) installed beside this interpreter,
    so the CLI works without an activated virtualenv; plain dbt where the package's scripts are not installed."""
    for name in ("session-analytics-dbt", "dbt"):
        beside = Path(sys.executable).parent / name
        if beside.exists():
            return str(beside)
    return shutil.which("session-analytics-dbt") or shutil.which("dbt") or "dbt"


dbt_resource = DbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=_dbt_executable()
)
