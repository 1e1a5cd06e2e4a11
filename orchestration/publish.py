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

So the published file and the lake's pending changes are the whole state, and a working file is scratch: the
changes a build has absorbed are forgotten only once that build is published (`record_built` ->
`publish_warehouse` -> `forget_published_changes`). A run that was killed or failed leaves a working file in any
state; the next refresh (`refresh_lock`, `remove_leftovers`) discards it with every other half-written file and
starts again from the published file, rebuilding the changes that were never published.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.config import Paths
from orchestration.ingest import changes, lake

_COPYING_SUFFIX = ".copying"
# Beside the working file: the pending changes its build has absorbed (forgotten once it is published).
_BUILT_SUFFIX = ".built.json"
# Beside the working file when it is a copy of the published file (publishing across file systems copies).
_PUBLISHED_SUFFIX = ".published"


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
        # the published file, then rename; the working file stays for the next run, marked as published.
        _atomic_copy(working, published)
        _sidecar(working, _PUBLISHED_SUFFIX).touch()
    _fsync_directory(published.parent)
    _fsync_directory(working.parent)
    return published


def working_warehouse_ready(paths: Paths) -> Path:
    """The working file, before anything writes it: after a publish moved it away, a copy of the published
    file (the last good state) under the working name. Call before opening the working file for writing;
    opening a missing file would create an empty warehouse."""
    working, published = paths.working_warehouse, paths.warehouse
    working.parent.mkdir(parents=True, exist_ok=True)
    _sidecar(working, _PUBLISHED_SUFFIX).unlink(missing_ok=True)  # about to be written: no longer the published state
    if not working.exists() and published.exists():
        _atomic_copy(published, working)
    return working


def record_built(paths: Paths, built: changes.PendingChanges) -> None:
    """The working file now holds these pending changes (a successful dbt build); forgotten at publish."""
    _write_atomically(_sidecar(paths.working_warehouse, _BUILT_SUFFIX), json.dumps(dataclasses.asdict(built)))


def forget_published_changes(paths: Paths) -> None:
    """After a publish: the changes the published build absorbed are no longer pending (changes recorded by
    loads meanwhile stay)."""
    record = _sidecar(paths.working_warehouse, _BUILT_SUFFIX)
    if record.exists():
        changes.mark_built(paths.lake_dir, changes.PendingChanges(**json.loads(record.read_text())))
        record.unlink()


class RefreshRunning(RuntimeError):
    """Another refresh holds the working warehouse or the lake."""


@contextlib.contextmanager
def refresh_lock(paths: Paths) -> Iterator[None]:
    """Held for a whole refresh: one refresh at a time writes a working warehouse and a lake. A lock of the
    kernel (flock), so that a killed refresh never leaves it held; the lock files themselves stay."""
    with contextlib.ExitStack() as held:
        for lock_file in (_sidecar(paths.working_warehouse, ".lock"), paths.lake_dir / "_state" / "refresh.lock"):
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            handle = held.enter_context(open(lock_file, "a+"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                raise RefreshRunning(
                    f"another refresh (pid {holder}) is writing {lock_file.parent}; wait for it to finish"
                ) from None
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
        yield


def remove_leftovers(paths: Paths) -> list[Path]:
    """What a killed or failed refresh left, removed before the next one starts (under `refresh_lock`): a
    working file that was never published (with its write-ahead log, spill folder and build record), copies
    cut short, and the lake's scratch. Returns what was removed.

    A working file that another process has open is not ours to remove: the run then fails on its lock, and
    DuckDB's message names that process."""
    working = paths.working_warehouse
    built = _sidecar(working, _BUILT_SUFFIX)
    found: list[Path] = [_sidecar(built, ".writing")]
    if not _sidecar(working, _PUBLISHED_SUFFIX).exists() and not _open_elsewhere(working):
        found += [working, _sidecar(working, ".wal"), _sidecar(working, ".tmp"), built]
    for target in (working, paths.warehouse):  # only copies to our own files: a folder may hold other warehouses
        found += target.parent.glob(f".{target.name}.*{_COPYING_SUFFIX}")
    found.append(paths.lake_dir / lake.SCRATCH_DIR)
    if paths.lake_dir.is_dir():
        found += paths.lake_dir.rglob(f"*{lake.TEMPORARY_SUFFIX}")
    removed = [path for path in found if path.exists() or path.is_symlink()]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed


def _open_elsewhere(database: Path) -> bool:
    """Whether another process has the DuckDB file open (DuckDB holds a POSIX lock on it while it is open)."""
    try:
        descriptor = os.open(database, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)  # also releases the probe's lock
    return False


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _write_atomically(path: Path, text: str) -> None:
    temporary = _sidecar(path, ".writing")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy to a temporary name beside the target (in the kernel: sendfile), fsync, rename over the target."""
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_COPYING_SUFFIX, dir=target.parent)
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
