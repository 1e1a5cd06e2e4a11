"""Publish the working warehouse for readers: checkpoint, copy beside the published file, fsync, rename.

A DuckDB file has one writer, and any open connection -- even a read-only one in another process -- blocks
it. So loaders and dbt write a working file that no reader opens, and after a successful refresh it is copied
to a temporary name in the published file's folder and moved over the published file with `os.replace`
(atomic on one file system). An analyst with the old file open keeps reading the old state (the old inode
lives on until they close it); the next connection opens the new state. A reader never sees half a refresh.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from orchestration.config import Paths


class PublishError(RuntimeError):
    pass


def publish_warehouse(paths: Paths) -> Path:
    working, published = paths.working_warehouse, paths.warehouse
    if not working.exists():
        raise PublishError(f"no working warehouse at {working}: nothing to publish")
    # Fold the write-ahead log into the file, so the copy is the whole state; then nobody holds the file.
    with duckdb.connect(str(working)) as conn:
        conn.execute("checkpoint")
    published.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{published.name}.", suffix=".publishing", dir=published.parent)
    temporary = Path(temporary_name)
    try:
        with open(working, "rb") as source, os.fdopen(handle, "wb") as target:
            shutil.copyfileobj(source, target, length=16 * 1024 * 1024)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, published)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(published.parent)
    return published


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (a crash right after publishing must not bring the old file back)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
