"""Read JSON Lines files with DuckDB's `read_json` and an explicit typed schema: the fast path of the loaders.

`read_json` parses a file at the speed of a bare scan, but it does not say which physical line a row came
from, skips blank lines silently, and fails the whole read on one malformed line. So:

- every file is first looked at in Python (decompressed if `.gz`): its physical line count, and whether it
  may hold whitespace-only lines (a few byte searches; splitting into lines only when it may);
- lines that `read_json` would skip or fail on are "special": the file is copied to a scratch folder with each
  special line replaced by `{}`, so every physical line gives exactly one row and row k is line k. A special
  line's text is handed back, for the exact line-by-line validation (lines.py) to classify;
- a malformed line (not JSON, not an object, two objects, invalid UTF-8) gives one all-NULL row in its place
  (`ignore_errors`), which the caller's checks flag for the exact path like any other incomplete line. So one
  bad line does not fail the read: a failed read would be read again whole, and with many deliveries read at
  once that is a whole batch per bad line;
- should a read still fail, the error names the file and (roughly) the line: that line is checked in Python,
  marked special, and the read retried. A file whose failure cannot be pinned on one line, or whose row count
  does not match its line count afterwards, is given back whole to the line-by-line path;
- line numbers come from insertion order: the temp table is filled in scan order (DuckDB keeps insertion
  order), so a row's line is its rowid minus the file's first rowid, plus one. The count check above guards it.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy

from orchestration.sources.lines import insert_rows, reported_name

BOM = "\ufeff".encode()
PLACEHOLDER = b"{}"
# A failed read names the file and the record it stopped at (DuckDB counts records, not always physical lines).
ERROR_LOCATION = re.compile(r'in file "(?P<file>.+?)", (?:at byte \d+ )?in line (?P<line>\d+)')
MAX_FIXES_PER_FILE = 20
JSON_WHITESPACE = b" \t\r\n"
WHITESPACE_BYTES = numpy.frombuffer(JSON_WHITESPACE, dtype=numpy.uint8)


@dataclass
class TypedFile:
    path: Path  # as delivered
    source_file: str  # as reported (relative to the raw dir)
    line_count: int
    read_path: Path  # what read_json reads: the file itself, or a scratch copy with special lines replaced
    copy_path: Path  # where that scratch copy goes
    special: dict[int, str] = field(default_factory=dict)  # line number -> text (BOM and CR removed)
    fixes: int = 0


@dataclass
class TypedRead:
    """`typed_rows(source_file, line_number, <columns>)`: every line of `files` except their special lines,
    which are in `special_lines(source_file, line_number, line)`. `whole_files` must be read line by line."""

    files: list[TypedFile]
    whole_files: list[Path]

    def line_texts(self, wanted: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
        """The text of some lines (as lines.py gives it), read again from their files."""
        by_file: dict[str, list[int]] = {}
        for source_file, number in wanted:
            by_file.setdefault(source_file, []).append(number)
        texts = []
        for entry in self.files:
            if entry.source_file in by_file:
                lines = _split_lines(_file_bytes(entry.path))
                texts += [(entry.source_file, n, lines[n - 1].decode("utf-8")) for n in sorted(by_file[entry.source_file])]
        return texts


def read_typed(
    conn: duckdb.DuckDBPyConnection,
    files: list[Path],
    raw_dir: Path,
    scratch: Path,
    columns: dict[str, str],
    select_sql: str,
) -> TypedRead:
    """Create `typed_rows` and `special_lines` from `files`, read with `columns` (name -> DuckDB type).

    `select_sql` selects from `typed_input` (`file_index` and the columns) what `typed_rows` keeps, with
    `file_index` first: it runs inside the scan, so validation costs no second pass over the rows."""
    typed: list[TypedFile] = []
    whole: list[Path] = []
    for index, path in enumerate(files):
        try:
            data = _file_bytes(path)
        except (OSError, EOFError, zlib.error):
            whole.append(path)
            continue
        line_count, maybe_blank, utf8 = _scan_bytes(data)
        if not utf8:  # the line-by-line path reports the file as unreadable
            whole.append(path)
            continue
        entry = TypedFile(path, reported_name(path, raw_dir), line_count, path, scratch / f"{index}.jsonl")
        if maybe_blank:
            lines = _split_lines(data)
            for number in maybe_blank:
                if number <= len(lines) and not lines[number - 1].strip(JSON_WHITESPACE):
                    entry.special[number] = lines[number - 1].decode("utf-8")
            if entry.special:
                _write_copy(entry, lines)
        typed.append(entry)

    schema = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in columns.items()) + "}"
    conn.execute("drop table if exists typed_scan")
    read, given_up = _scan_all(conn, typed, schema, select_sql)
    if not read:
        empty = ", ".join(f"cast(null as {sql_type}) as {name}" for name, sql_type in columns.items())
        conn.execute(f"create or replace temp table typed_scan as "
                     f"with typed_input as (select 0 as file_index, {empty} where false) {select_sql}")
    whole += [entry.path for entry in given_up]

    conn.execute("create or replace temp table typed_files (file_index integer, source_file varchar, "
                 "line_count bigint, first_rowid bigint)")
    insert_rows(conn, "typed_files", [(i, entry.source_file, entry.line_count, None) for i, entry in enumerate(read)])
    conn.execute(
        "update typed_files set first_rowid = s.first_rowid from ("
        "select file_index, min(rowid) as first_rowid, count(*) as row_count, max(rowid) as last_rowid "
        "from typed_scan group by file_index) s "
        "where s.file_index = typed_files.file_index and s.row_count = typed_files.line_count "
        "and s.last_rowid - s.first_rowid + 1 = s.row_count"
    )
    # A file whose rows do not line up one to one with its lines is read again line by line.
    mismatched = {row[0] for row in conn.execute(
        "select file_index from typed_files where first_rowid is null and line_count > 0").fetchall()}
    if mismatched:
        conn.execute(f"delete from typed_files where file_index in ({', '.join(map(str, mismatched))})")
        whole += [read[i].path for i in sorted(mismatched)]
    kept = [entry for i, entry in enumerate(read) if i not in mismatched]

    conn.execute("create or replace temp table special_lines (source_file varchar, line_number bigint, line varchar)")
    insert_rows(conn, "special_lines",
                [(e.source_file, n, text) for e in kept for n, text in sorted(e.special.items())])
    conn.execute(
        """
        create or replace temp view typed_rows as
        select f.source_file, s.rowid - f.first_rowid + 1 as line_number, s.* exclude (file_index)
        from typed_scan as s
        join typed_files as f on f.file_index = s.file_index
        -- an anti join hashes the few special lines; a correlated NOT EXISTS grouped every row instead
        anti join special_lines as x
            on x.source_file = f.source_file and x.line_number = s.rowid - f.first_rowid + 1
        """
    )
    return TypedRead(kept, sorted(whole))


def _scan_all(conn: duckdb.DuckDBPyConnection, pending: list[TypedFile], schema: str, select_sql: str):
    """Read all files in one scan; after a failure, mark the line it names special and retry. Returns the
    files read (in file_index order) and the files given up."""
    pending, given_up = list(pending), []
    while pending:
        try:
            _scan(conn, pending, schema, select_sql, first_index=0)
            return pending, given_up
        except duckdb.Error as error:
            culprit = _failed_file(error, pending)
            if culprit is None:
                break
            if not _mark_failed_line(culprit, error):
                pending.remove(culprit)
                given_up.append(culprit)
    if not pending:
        return pending, given_up
    # The failure does not say which file: read the files one at a time.
    read = []
    for entry in pending:
        while True:
            try:
                _scan(conn, [entry], schema, select_sql, first_index=len(read))
                read.append(entry)
                break
            except duckdb.Error as error:
                if not _mark_failed_line(entry, error):
                    given_up.append(entry)
                    break
    return read, given_up


def _scan(conn: duckdb.DuckDBPyConnection, group: list[TypedFile], schema: str, select_sql: str,
          first_index: int) -> None:
    """Append the group's rows to `typed_scan` (created by the first scan: that saves planning the
    validation query twice)."""
    exists = conn.execute("select count(*) from duckdb_tables() where table_name = 'typed_scan' and temporary"
                          ).fetchall()[0][0]
    statement = "insert into typed_scan" if exists else "create temp table typed_scan as"
    conn.execute(
        f"{statement} with typed_input as (select file_index + {first_index} as file_index, * "
        f"from read_json(?, columns = {schema}, format = 'newline_delimited', records = true, ignore_errors = true)) "
        f"{select_sql}",
        [[str(entry.read_path) for entry in group]],
    )


def _failed_file(error: duckdb.Error, pending: list[TypedFile]) -> TypedFile | None:
    location = ERROR_LOCATION.search(str(error))
    if location is None:
        return None
    return next((e for e in pending if str(e.read_path) == location["file"]), None)


def _mark_failed_line(entry: TypedFile, error: duckdb.Error) -> bool:
    """Find the line a read failure names, check in Python that it is not a JSON object, mark it special and
    write the scratch copy. False when the line cannot be pinned down (the file is then read line by line)."""
    location = ERROR_LOCATION.search(str(error))
    entry.fixes += 1
    if location is None or entry.fixes > MAX_FIXES_PER_FILE:
        return False
    lines = _split_lines(_file_bytes(entry.path))
    reported = int(location["line"])
    # DuckDB counts records (in the original file whitespace-only lines are not counted, in a copy every line
    # is), and a truncated object is reported on the line after it, where the parser ran into the next one.
    counted = [n for n, line in enumerate(lines, start=1) if n in entry.special or line.strip(JSON_WHITESPACE)]
    candidates = [counted[i - 1] for i in (reported, reported - 1) if 0 < i <= len(counted)]
    candidates += [i for i in (reported, reported - 1) if 0 < i <= len(lines)]
    for number in candidates:
        if number not in entry.special and _is_bad_object(lines[number - 1]):
            entry.special[number] = lines[number - 1].decode("utf-8")
            for other, line in enumerate(lines, start=1):  # blank lines too: from now on row k is line k
                if not line.strip(JSON_WHITESPACE):
                    entry.special.setdefault(other, line.decode("utf-8"))
            _write_copy(entry, lines)
            return True
    return False


def _file_bytes(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as compressed:
            return compressed.read()
    return path.read_bytes()


def _scan_bytes(data: bytes) -> tuple[int, list[int], bool]:
    """The file's line count (as lines.py counts: a final empty piece after the last newline is not a line),
    the numbers of the lines that may be whitespace-only (they start with whitespace), and whether the file
    is valid UTF-8; vectorised."""
    if not data:
        return 0, [], True
    body = numpy.frombuffer(data, dtype=numpy.uint8)
    newlines = numpy.flatnonzero(body == 10)
    starts = newlines + 1  # the byte after each newline starts the next line
    line_count = len(starts) + (0 if data.endswith(b"\n") else 1)
    utf8 = _is_utf8(data, body, newlines)
    first = len(BOM) if data.startswith(BOM) else 0
    if first >= len(body):  # a BOM and nothing else: one blank line
        return line_count, [1], utf8
    starts = numpy.concatenate(([first], starts[starts < len(body)]))
    maybe_blank = numpy.flatnonzero(numpy.isin(body[starts], WHITESPACE_BYTES)) + 1
    return line_count, maybe_blank.tolist(), utf8


def _is_utf8(data: bytes, body: numpy.ndarray, newlines: numpy.ndarray) -> bool:
    """Whether `data` is valid UTF-8, decoding only the lines that hold a non-ASCII byte: a newline byte is
    never part of a multi-byte sequence, so the file is valid exactly when each of those lines is. Decoding
    the whole file would build a wide string of every byte."""
    non_ascii = numpy.flatnonzero(body >= 0x80)
    if not len(non_ascii):
        return True
    ends = numpy.append(newlines, len(body))  # each line ends at its newline, the last at the end of the data
    try:
        for line in numpy.unique(numpy.searchsorted(ends, non_ascii)).tolist():
            data[ends[line - 1] + 1 if line else 0 : ends[line]].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split_lines(data: bytes) -> list[bytes]:
    """Physical lines as lines.py gives them: split on LF, trailing CRs removed, a leading BOM removed."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    lines = [piece.rstrip(b"\r") for piece in pieces]
    while lines and lines[0].startswith(BOM):
        lines[0] = lines[0][len(BOM):]
    return lines


def _write_copy(entry: TypedFile, lines: list[bytes]) -> None:
    entry.copy_path.write_bytes(b"".join((PLACEHOLDER if n in entry.special else line) + b"\n"
                                         for n, line in enumerate(lines, start=1)))
    entry.read_path = entry.copy_path


def _is_bad_object(line: bytes) -> bool:
    try:
        return not isinstance(json.loads(line), dict)
    except ValueError:
        return True
