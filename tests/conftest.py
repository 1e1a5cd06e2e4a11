"""Fixtures shared by several test files (each is built once per test session, and the warehouses once for all
xdist workers)."""

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from orchestration.defs.reporting import weekly_reports
from orchestration.defs.resources import SessionAnalyticsPaths
from tests.fixtures.budget_scenario import build_budget_warehouse
from tests.fixtures.report_scenario import W46, build_report_warehouse
from tests.fixtures.servers import RecordingSmtpHandler, free_port
from tests.fixtures.warehouse import built_once, test_paths

# pytest-xdist (`--dist loadfile`) hands the files to its workers in the order they are collected: a long file
# collected last would run alone at the end while the other worker idles. The longest files go first (seconds on two
# busy cores); the others keep their order.
LONGEST_FILES_FIRST = (
    "test_spark.py",  # ~250: three Spark builds and three DuckDB builds
    "test_query_properties.py",  # ~150: a real build per generated example
    "test_collector.py",  # ~120
    "test_production.py",  # ~100
    "test_hostile_api.py",  # ~100
    "test_multiprocess_executor.py",  # ~100: every step process loads the code location
    "test_pipeline.py",  # ~70
)

SMTP_BACKOFF_SECONDS = 0.01  # before the second attempt; doubles per attempt
SMTP_FROM = "reports@acme.example"


def pytest_collection_modifyitems(items):
    rank = {name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory):
    """The report scenario's warehouse (tests/fixtures/report_scenario.py), one build for every worker; tests only
    read it."""
    return test_paths(built_once(tmp_path_factory, "report-warehouse", build_report_warehouse))


@pytest.fixture(scope="session")
def rendered_reports(report_warehouse, tmp_path_factory):
    """The scenario's W46 reports of every org, rendered once for every worker by the real Dagster asset (worker
    processes): the reports folder (`<org>/<week>/...`). Tests only read it; a test that changes reports works on a
    copy."""

    def render(reports_dir):
        result = dg.materialize(
            [weekly_reports],
            partition_key=W46.start.isoformat(),
            resources={
                "paths": SessionAnalyticsPaths(warehouse=str(report_warehouse.warehouse), reports_dir=str(reports_dir))
            },
        )
        assert result.success

    return built_once(tmp_path_factory, "rendered-reports", render)


@pytest.fixture(scope="session")
def budget_warehouse(tmp_path_factory):
    """The budget scenario's warehouse (tests/fixtures/budget_scenario.py), one build for every worker; tests only
    read it, or copy its folder (`paths.warehouse.parent`) to change it."""
    return test_paths(built_once(tmp_path_factory, "budget-warehouse", build_budget_warehouse))


@pytest.fixture
def smtp(monkeypatch):
    """Start an SMTP server on loopback (`smtp(**RecordingSmtpHandler arguments)`); its settings go to the
    environment, as the CLI reads them: 3 attempts per message, SMTP_BACKOFF_SECONDS apart at first."""
    controllers = []

    def start(**behaviour) -> RecordingSmtpHandler:
        handler = RecordingSmtpHandler(**behaviour)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        for name, value in {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SMTP_FROM": SMTP_FROM,
            "SMTP_ATTEMPTS": "3",
            "SMTP_BACKOFF_SECONDS": str(SMTP_BACKOFF_SECONDS),
        }.items():
            monkeypatch.setenv(f"SESSION_ANALYTICS_{name}", value)
        return handler

    yield start
    for controller in controllers:
        controller.stop()
