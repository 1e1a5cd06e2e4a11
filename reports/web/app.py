"""The app `session-analytics serve` runs: the analytics API (reports.api) with the dashboard (reports.web) mounted
on it, so both share one process, warehouse, token store and limits. The API's own app stays free of the
dashboard (reports.api never imports reports.web)."""

from __future__ import annotations

from fastapi import FastAPI

from reports.api import app as api
from reports.web.routes import add_dashboard


def create_app(settings: api.ApiSettings) -> FastAPI:
    return add_dashboard(api.create_app(settings))


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (one per worker process), configured by environment variables."""
    return add_dashboard(api.app_from_environment())
