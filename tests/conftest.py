"""Fixtures shared by several test files (each is built once per test session)."""

import pytest
from aiosmtpd.controller import Controller

from tests.report_scenario import build_report_warehouse
from tests.support import RecordingSmtpHandler, free_port

SMTP_BACKOFF_SECONDS = 0.01  # before the second attempt; doubles per attempt
SMTP_FROM = "reports@acme.example"


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory):
    """The report scenario's warehouse (tests/report_scenario.py); tests only read it."""
    return build_report_warehouse(tmp_path_factory.mktemp("report-warehouse"))


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
