"""Fixtures shared by several test files (each is built once per test session)."""

import pytest

from tests.report_scenario import build_report_warehouse


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory):
    """The report scenario's warehouse (tests/report_scenario.py); tests only read it."""
    return build_report_warehouse(tmp_path_factory.mktemp("report-warehouse"))
