"""Fixtures shared by several test files (each is built once per test session)."""

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from orchestration.defs.reporting import weekly_reports
from orchestration.defs.resources import SessionAnalyticsPaths
from tests.fixtures.report_scenario import W46, build_report_warehouse
from tests.fixtures.servers import RecordingSmtpHandler, free_port

SMTP_BACKOFF_SECONDS = 0.01  # before the second attempt; doubles per attempt
SMTP_FROM = "reports@acme.example"


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory):
    """The report scenario's warehouse (tests/fixtures/report_scenario.py); tests only read it."""
    return build_report_warehouse(tmp_path_factory.mktemp("report-warehouse"))


@pytest.fixture(scope="session")
def rendered_reports(report_warehouse, tmp_path_factory):
    """The scenario's W46 reports of every org, rendered once by the real Dagster asset (worker processes): the
    reports folder (`<org>/<week>/...`). Tests only read it; a test that changes reports works on a copy."""
    reports_dir = tmp_path_factory.mktemp("rendered-reports")
    result = dg.materialize(
        [weekly_reports],
        partition_key=W46.start.isoformat(),
        resources={
            "paths": SessionAnalyticsPaths(warehouse=str(report_warehouse.warehouse), reports_dir=str(reports_dir))
        },
    )
    assert result.success
    return reports_dir


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
