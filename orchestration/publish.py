"""Publish the working warehouse for readers: checkpoint, fsync, rename it over the published file.

A DuckDB file has one writer, and any open connection -- even a read-only one in another process -- blocks
it. So loaders and dbt write a working file that no reader opens, and after a successful refresh that file
itself is moved over the published file with `os.replace` (atomic on one file system). An analyst with the
old file open keeps reading the old state (the old inode lives on until they close it); the next connection
opens the new state. A reader never sees half a refresh.

Publishing moves the file instead of copying it (copying the 3.1 GB warehouse of 10M requests and fsyncing
the copy took 45 s), so after a publish there is no working file. The next run that writes starts from a
copy of the published file (`working_warehouse_ready`): a nightly refresh still copies the warehouse once,
before it writes instead of after, and a first or full build from scratch copies nothing. The published file
is never written in place: only replaced by a rename.
"""

from __future__ import annotations

import errno
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
        if published.exists():
            return published  # nothing was written since the last publish: it is already the published state
        raise PublishError(f"no working warehouse at {working}: nothing to publish")
    # Fold the write-ahead log into the file, so the file is the whole state; then nobody holds it.
    with duckdb.connect(str(working)) as conn:
        conn.execute("checkpoint")
    published.parent.mkdir(parents=True, exist_ok=True)
    _fsync_file(working)
    os.chmod(working, 0o644)
    try:
        os.replace(working, published)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # The working file is on another file system (SESSION_ANALYTICS_WORKING_WAREHOUSE): copy it beside
        # the published file, then rename; the working file stays for the next run.
        _atomic_copy(working, published)
    _fsync_directory(published.parent)
    _fsync_directory(working.parent)
    return published


def working_warehouse_ready(paths: Paths) -> Path:
    """The working file, before anything writes it: after a publish moved it away, a copy of the published
    file (the last good state) under the working name. Call before opening the working file for writing;
    opening a missing file would create an empty warehouse."""
    working, published = paths.working_warehouse, paths.warehouse
    working.parent.mkdir(parents=True, exist_ok=True)
    if not working.exists() and published.exists():
        _atomic_copy(published, working)
    return working


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy to a temporary name beside the target (in the kernel: sendfile), fsync, rename over the target."""
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".copying", dir=target.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        shutil.copyfile(source, temporary)
        _fsync_file(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (a crash right after publishing must not bring the old file back)."""
    _fsync_file(folder)
