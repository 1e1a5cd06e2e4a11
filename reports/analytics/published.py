"""Long-running readers (the HTTP API) of the published warehouse, which a refresh may replace at any moment.

A refresh publishes a new warehouse by `os.replace`: the path then names a new file (a new inode), while
readers that opened the old one keep reading it undisturbed. So a long-running reader keeps one read-only
connection per file *generation* — identified by the file's device, inode, size and mtime — and, when the path
names a new generation, opens it for new requests; requests in flight finish on the old one, which closes when
the last of them lets go. One `os.stat` per request is the whole cost of noticing a refresh.

Why an in-memory database that ATTACHes the file instead of `duckdb.connect(path)`: DuckDB keeps one database
instance per path in a process, so connecting to the same path while the old generation is still open would
hand back the old file. ATTACH opens whatever file the path names now. ATTACH only sets the default catalog of
the connection that runs it, so `cursor()` re-applies it (`AnalyticsQueries` and `Directory` work on cursors).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

_CATALOG = "warehouse"


class WarehouseUnavailable(RuntimeError):
    """No readable warehouse at the path (not built yet, or not a DuckDB file)."""


@dataclass(frozen=True)
class _FileIdentity:
    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> _FileIdentity:
        stat = os.stat(path)
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class WarehouseGeneration:
    """One published file, open read-only; quacks like the DuckDB connection the query code expects."""

    identity: _FileIdentity
    _database: duckdb.DuckDBPyConnection
    _memo: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, identity: _FileIdentity) -> WarehouseGeneration:
        database = duckdb.connect(":memory:")
        try:
            database.execute(f"attach '{_sql_string(path)}' as {_CATALOG} (read_only)")
        except duckdb.Error:
            database.close()
            raise
        return cls(identity, database)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = self._database.cursor()
        cursor.execute(f"use {_CATALOG}")
        return cursor

    def memoized(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` once per generation: facts that change only with a refresh (e.g. an org's directory)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value


class PublishedWarehouse:
    """The current generation of the warehouse file at `path`, reopened when a refresh replaces the file."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._current: WarehouseGeneration | None = None
        self._unopenable: _FileIdentity | None = None  # a file that failed to open: not retried per request
        self._opening = threading.Lock()

    def current(self) -> WarehouseGeneration:
        try:
            identity = _FileIdentity.of(self.path)
        except FileNotFoundError:
            if self._current is not None:
                # Between two steps of a non-atomic publish; the last good generation is still consistent.
                return self._current
            raise WarehouseUnavailable(f"no warehouse at {self.path}; run `session-analytics refresh`") from None
        current = self._current
        if current is not None and (current.identity == identity or identity == self._unopenable):
            return current
        with self._opening:
            current = self._current
            if current is not None and current.identity == identity:
                return current
            try:
                opened = WarehouseGeneration.open(self.path, identity)
            except duckdb.Error as error:
                self._unopenable = identity
                if current is not None:
                    log.warning("cannot open the new warehouse file (%s); still serving the previous one", error)
                    return current
                raise WarehouseUnavailable(f"cannot open the warehouse {self.path}: {error}") from None
            if current is not None:
                log.info("warehouse %s was replaced; serving the new file", self.path)
            self._current = opened
            return opened


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")
