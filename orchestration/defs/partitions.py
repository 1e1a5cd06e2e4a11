"""The delivery-date range a refresh run covers: the run tags that name it and the range of the delivery folders
present. Shared by the schedule (`automation`) and the refresh runner (`orchestration.refresh`); here, so that the
schedule does not import the runner, which loads the definitions (that was an import cycle)."""

from __future__ import annotations

import datetime as dt

from orchestration.config import Paths
from orchestration.ingest import platform

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


def delivery_range(paths: Paths, today: dt.date | None = None) -> tuple[str, str]:
    """The partition range covering every delivery folder present (today's date when there is none).

    Unchanged deliveries are skipped by the loader, so asking for the whole range costs only the new data.
    """
    latest_allowed = (today or dt.date.today()) + dt.timedelta(days=1)
    dates = [d for d in platform.delivery_dates(paths.raw_dir) if dt.date.fromisoformat(d) <= latest_allowed]
    if not dates:
        key = (today or dt.date.today()).isoformat()
        return key, key
    return dates[0], dates[-1]
