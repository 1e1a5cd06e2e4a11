"""`make dev` serves a Dagster UI whose code location loads: the test runs the Makefile's target as a fresh clone's
shell would (the venv's bin not on PATH), on a free port and a temporary DAGSTER_HOME, and asks the webserver's
GraphQL endpoint for the code location's assets, asset checks, schedules and sensors."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from orchestration.definitions import defs
from tests.fixtures import REPO

LOAD_SECONDS = 240

LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename
      ... on PythonError { message }
      ... on RepositoryLocation { repositories {
        assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
        schedules { name } sensors { name } } } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ask(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": LOCATION_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _loaded_location(port: int, server: subprocess.Popen) -> dict:
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"make dev exited with {server.returncode}"
        answer = _ask(port)
        entries = (answer or {}).get("data", {}).get("workspaceOrError", {}).get("locationEntries") or []
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            (entry,) = entries
            return entry
        time.sleep(1)
    raise AssertionError(f"the code location did not load within {LOAD_SECONDS}s")


def _stop_group(server: subprocess.Popen, grace_seconds: float = 60) -> None:
    """make, dagster dev and every process they started (one process group): asked to stop, then killed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        server.poll()  # reap make, so that only the others keep the group alive
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def test_make_dev_serves_a_code_location_with_every_asset_check_schedule_and_sensor(tmp_path):
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep) if part != venv_bin)
    port = _free_port()
    log = open(tmp_path / "make-dev.log", "w+b")
    server = subprocess.Popen(
        # -o: the venv and the dbt manifest are there already (the suite's own set-up); never rebuild them here
        [
            "make",
            "-o",
            ".venv/.installed",
            "-o",
            "dbt_project/target/manifest.json",
            "dev",
            f"DAGSTER_HOME_DIR={tmp_path / 'dagster_home'}",
            f"DAGSTER_PORT={port}",
        ],
        cwd=REPO,
        env={**os.environ, "PATH": path},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        entry = _loaded_location(port, server)
    except AssertionError as error:
        log.seek(0)
        raise AssertionError(f"{error}\n{log.read().decode(errors='replace')[-4000:]}") from None
    finally:
        _stop_group(server)
        log.close()

    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]
    served_assets = {tuple(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    served_checks = {
        check["name"] for node in repository["assetNodes"] for check in node["assetChecksOrError"].get("checks", [])
    }
    graph = defs.resolve_asset_graph()
    assert served_assets == {tuple(key.path) for key in graph.get_all_asset_keys()}
    assert served_checks == {key.name for key in graph.asset_check_keys} and served_checks
    assert {s["name"] for s in repository["schedules"]} == {s.name for s in defs.schedules} and repository["schedules"]
    assert {s["name"] for s in repository["sensors"]} == {s.name for s in defs.sensors} and repository["sensors"]
