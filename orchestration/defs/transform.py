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

from orchestration.dbt_child import PARENT_PID_ENV
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, SessionAnalyticsPaths
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
    working_warehouse_ready(resolved)  # the last publish moved the working file: start from its copy
    pending = changes.pending(resolved.lake_dir)
    if pending.full_rebuild:
        arguments = ["build", "--full-refresh"]
        context.log.info("full rebuild of every model")
    else:
        arguments = ["build", "--vars", json.dumps(pending.dbt_vars())]
        context.log.info("incremental build of the changed batches: %s", pending.batches)
    os.environ[PARENT_PID_ENV] = str(os.getpid())  # dbt dies with this process (orchestration/dbt_child.py)
    yield from dbt.cli(arguments, context=context).stream()
    record_built(resolved, pending)  # no longer pending once this build is published


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
