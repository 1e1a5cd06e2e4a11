"""Read JSON Lines files with DuckDB's `read_json` and an explicit typed schema: the fast path of the loaders.

`read_json` parses a file at the speed of a bare scan, but it does not say which physical line a row came
from, skips blank lines silently, and fails the whole read on one malformed line. So:

- every file is first looked at in Python (decompressed if `.gz`), with a few vectorised byte searches: its
  physical line count, and the lines that cannot be one JSON object each -- blank, not starting with `{` or not
  ending with `}`, or longer than MAX_TYPED_LINE_BYTES (read_json's object size limit would fail the file).
  Those lines are "special": the file is copied to a scratch folder with each of them replaced by `{}`, so every
  physical line gives exactly one row and row k is line k. A special line's text is handed back, for the exact
  line-by-line validation (lines.py) to classify;
- the read is strict (`ignore_errors = false`): DuckDB then refuses an object that repeats one of the columns'
  keys (at the top level or inside a STRUCT column, escaped or not) -- the duplicate-key check of the contract,
  at no cost. A line refused anyway (a duplicate key, malformed between its braces, a non-object for a STRUCT
  column) is named by the error: it is made special and the read retried. After MAX_GROUP_FAILURES failed reads
  of many files at once, the files are read one at a time, so a hostile file costs re-reads of itself, not of
  the whole batch. A file whose failure cannot be pinned on a line, or whose row count does not match its line
  count afterwards, is given back whole to the line-by-line path;
- the caller's checks may judge text as printable ASCII, cheaply (a length and a space test instead of a Unicode
  regular expression): rows of lines that hold any other byte -- non-ASCII, a backslash escape, DEL -- must also
  pass `full_check_sql`, or they are flagged for the exact path;
- line numbers come from insertion order: the temp table is filled in scan order (DuckDB keeps insertion
  order), so a row's line is its rowid minus the file's first rowid, plus one. The count check above guards it.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy

from orchestration.ingest.lines import encodes_as_utf8, insert_rows, reported_name, unglobbed

BOM = "\ufeff".encode()
PLACEHOLDER = b"{}"
# A failed read names the file and the record it stopped at: the line itself for a value that does not fit
# the schema, often the line after it for malformed JSON.
ERROR_LOCATION = re.compile(r'in file "(?P<file>.+?)", (?:at byte \d+ )?in line (?P<line>\d+)')
MAX_FIXES_PER_FILE = 20
MAX_GROUP_FAILURES = 2
# Longer lines are left to the line-by-line path; read_json is told objects may be twice as long, so that no
# line it is given reaches its limit (which fails the whole read without naming a line).
MAX_TYPED_LINE_BYTES = 8 << 20
JSON_WHITESPACE = b" \t\r\n"
WHITESPACE_BYTES = numpy.frombuffer(JSON_WHITESPACE, dtype=numpy.uint8)
OPEN_BRACE, CLOSE_BRACE, CR, LF, BACKSLASH, DEL = (ord(c) for c in "{}\r\n\\\x7f")


@dataclass
class TypedFile:
    path: Path  # as delivered
    source_file: str  # as reported (relative to the raw dir)
    line_count: int
    read_path: Path  # what read_json reads: the file itself, or a scratch copy with special lines replaced
    copy_path: Path  # where that scratch copy goes
    special: dict[int, str] = field(default_factory=dict)  # line number -> text (BOM and CR removed)
    not_ascii: list[int] = field(default_factory=list)  # lines holding a byte other than printable ASCII
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
                texts += [
                    (entry.source_file, n, lines[n - 1].decode("utf-8")) for n in sorted(by_file[entry.source_file])
                ]
        return texts


def read_typed(
    conn: duckdb.DuckDBPyConnection,
    files: list[Path],
    raw_dir: Path,
    scratch: Path,
    columns: dict[str, str],
    select_sql: str,
    full_check_sql: str = "true",
) -> TypedRead:
    """Create `typed_rows` and `special_lines` from `files`, read with `columns` (name -> DuckDB type).

    `select_sql` selects from `typed_input` (`file_index` and the columns) what `typed_rows` keeps, with
    `file_index` first and a boolean `needs_exact_check`: it runs inside the scan, so validation costs no second
    pass over the rows. `full_check_sql` (over those columns) must also hold for the rows of lines that hold a
    byte other than printable ASCII, else they are flagged `needs_exact_check`."""
    typed: list[TypedFile] = []
    whole: list[Path] = []
    for index, path in enumerate(files):
        if not encodes_as_utf8(str(path)):  # DuckDB cannot be given the name: the line-by-line path reports it
            whole.append(path)
            continue
        try:
            data = _file_bytes(path)
        except (OSError, EOFError, zlib.error):
            whole.append(path)
            continue
        shape = _scan_bytes(data)
        if shape is None:  # not UTF-8: the line-by-line path reports the file as unreadable
            whole.append(path)
            continue
        # A name DuckDB would read as a glob pattern is read through a link (same suffix: it tells gzip).
        suffix = ".jsonl.gz" if path.name.endswith(".gz") else ".jsonl"
        read_path = unglobbed(path, scratch / f"typed-{index}{suffix}")
        entry = TypedFile(
            path,
            reported_name(path, raw_dir),
            shape.line_count,
            read_path,
            scratch / f"{index}.jsonl",
            not_ascii=shape.not_ascii,
        )
        for number in shape.doubtful:
            text = _line(data, shape, number)
            body = text.strip(JSON_WHITESPACE)
            if not (body.startswith(b"{") and body.endswith(b"}")) or len(text) > MAX_TYPED_LINE_BYTES:
                entry.special[number] = text.decode("utf-8")
        if entry.special:
            _write_copy(entry, _split_lines(data))
        typed.append(entry)

    schema = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in columns.items()) + "}"
    conn.execute("drop table if exists typed_scan")
    read, given_up = _scan_all(conn, typed, schema, select_sql)
    if not read:
        empty = ", ".join(f"cast(null as {sql_type}) as {name}" for name, sql_type in columns.items())
        conn.execute(
            f"create or replace temp table typed_scan as "
            f"with typed_input as (select 0 as file_index, {empty} where false) {select_sql}"
        )
    whole += [entry.path for entry in given_up]

    conn.execute(
        "create or replace temp table typed_files (file_index integer, source_file varchar, "
        "line_count bigint, first_rowid bigint)"
    )
    insert_rows(conn, "typed_files", [(i, entry.source_file, entry.line_count, None) for i, entry in enumerate(read)])
    conn.execute(
        "update typed_files set first_rowid = s.first_rowid from ("
        "select file_index, min(rowid) as first_rowid, count(*) as row_count, max(rowid) as last_rowid "
        "from typed_scan group by file_index) s "
        "where s.file_index = typed_files.file_index and s.row_count = typed_files.line_count "
        "and s.last_rowid - s.first_rowid + 1 = s.row_count"
    )
    # A file whose rows do not line up one to one with its lines is read again line by line.
    mismatched = {
        row[0]
        for row in conn.execute(
            "select file_index from typed_files where first_rowid is null and line_count > 0"
        ).fetchall()
    }
    if mismatched:
        conn.execute(f"delete from typed_files where file_index in ({', '.join(map(str, mismatched))})")
        whole += [read[i].path for i in sorted(mismatched)]
    kept = [entry for i, entry in enumerate(read) if i not in mismatched]
    _check_not_ascii_rows(conn, [(i, entry) for i, entry in enumerate(read) if i not in mismatched], full_check_sql)

    conn.execute("create or replace temp table special_lines (source_file varchar, line_number bigint, line varchar)")
    insert_rows(
        conn, "special_lines", [(e.source_file, n, text) for e in kept for n, text in sorted(e.special.items())]
    )
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


def _check_not_ascii_rows(
    conn: duckdb.DuckDBPyConnection, read: list[tuple[int, TypedFile]], full_check_sql: str
) -> None:
    """Flag the rows of lines holding a byte other than printable ASCII that fail `full_check_sql`."""
    rows = [(index, number) for index, entry in read for number in entry.not_ascii if number not in entry.special]
    if not rows:
        return
    conn.execute("create or replace temp table not_ascii_lines (file_index integer, line_number bigint)")
    insert_rows(conn, "not_ascii_lines", rows)
    conn.execute(
        "update typed_scan set needs_exact_check = true from ("
        "select f.first_rowid + n.line_number - 1 as row_id from not_ascii_lines as n "
        "join typed_files as f using (file_index)) as lines "
        f"where typed_scan.rowid = lines.row_id and not typed_scan.needs_exact_check "
        f"and not coalesce(({full_check_sql}), false)"
    )


def _scan_all(conn: duckdb.DuckDBPyConnection, pending: list[TypedFile], schema: str, select_sql: str):
    """Read the files in one scan. A failure makes the lines it names special and takes their file out of the
    group, to be read on its own; after MAX_GROUP_FAILURES failures, or one that names no file, every file left
    is read on its own. Returns the files read (in file_index order) and the files given up."""
    group, alone, given_up, read = list(pending), [], [], []
    failures = 0
    while group:
        try:
            _scan(conn, group, schema, select_sql, first_index=0)
            read, group = group, []
        except duckdb.Error as error:
            failures += 1
            culprit = _failed_file(error, group)
            if culprit is not None:
                group.remove(culprit)
                (alone if _mark_failed_line(culprit, error) else given_up).append(culprit)
            if culprit is None or failures >= MAX_GROUP_FAILURES:
                group, alone = [], group + alone
    for entry in alone:
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


def _scan(
    conn: duckdb.DuckDBPyConnection, group: list[TypedFile], schema: str, select_sql: str, first_index: int
) -> None:
    """Append the group's rows to `typed_scan` (created by the first scan: that saves planning the
    validation query twice)."""
    exists = conn.execute(
        "select count(*) from duckdb_tables() where table_name = 'typed_scan' and temporary"
    ).fetchall()[0][0]
    statement = "insert into typed_scan" if exists else "create temp table typed_scan as"
    conn.execute(
        f"{statement} with typed_input as (select file_index + {first_index} as file_index, * "
        f"from read_json(?, columns = {schema}, format = 'newline_delimited', records = true, "
        f"ignore_errors = false, maximum_object_size = {2 * MAX_TYPED_LINE_BYTES})) "
        f"{select_sql}",
        [[str(entry.read_path) for entry in group]],
    )


def _failed_file(error: duckdb.Error, pending: list[TypedFile]) -> TypedFile | None:
    location = ERROR_LOCATION.search(str(error))
    if location is None:
        return None
    return next((e for e in pending if str(e.read_path) == location["file"]), None)


def _mark_failed_line(entry: TypedFile, error: duckdb.Error) -> bool:
    """Make special the line a read failure names and the one before it (which of the two is at fault depends
    on the error; a good line made special is only checked exactly), then write the scratch copy. Blank lines
    are always special, so record k is line k. False when no new line can be pinned down (the file is then
    read line by line)."""
    location = ERROR_LOCATION.search(str(error))
    entry.fixes += 1
    if location is None or entry.fixes > MAX_FIXES_PER_FILE:
        return False
    lines = _split_lines(_file_bytes(entry.path))
    reported = int(location["line"])
    named = [n for n in (reported, reported - 1) if 0 < n <= len(lines) and n not in entry.special]
    if not named:
        return False
    for number in named:
        entry.special[number] = lines[number - 1].decode("utf-8")
    _write_copy(entry, lines)
    return True


def _file_bytes(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as compressed:
            return compressed.read()
    return path.read_bytes()


@dataclass
class _Shape:
    """What the byte scan of one file found; line numbers are 1-based."""

    line_count: int
    starts: numpy.ndarray  # where each line starts (after a BOM)
    ends: numpy.ndarray  # where each line ends (its newline, or the end of the data)
    doubtful: list[int]  # lines that may be blank, not one object, or too long for read_json
    not_ascii: list[int]  # lines holding a byte other than printable ASCII: non-ASCII, a backslash, DEL


def _scan_bytes(data: bytes) -> _Shape | None:
    """The file's lines (as lines.py counts them: a final empty piece after the last newline is not a line),
    vectorised; None when the data is not UTF-8."""
    body = numpy.frombuffer(data, dtype=numpy.uint8)
    newlines = numpy.flatnonzero(body == LF)
    line_count = len(newlines) + (0 if not data or data.endswith(b"\n") else 1)
    first = len(BOM) if data.startswith(BOM) else 0
    starts = numpy.concatenate(([first], newlines + 1))[:line_count]
    ends = numpy.append(newlines, len(body))[:line_count]
    if not line_count:
        return _Shape(0, starts, ends, [], [])
    lengths = ends - starts
    first_bytes = body[numpy.minimum(starts, len(body) - 1)]
    last = numpy.maximum(ends - 1, 0)
    last -= body[last] == CR  # the CR of a CRLF line end
    last_bytes = body[numpy.maximum(last, 0)]
    doubtful = (
        (lengths <= 0)
        | (last < starts)
        | (first_bytes != OPEN_BRACE)
        | (last_bytes != CLOSE_BRACE)
        | (lengths > MAX_TYPED_LINE_BYTES)
    )
    shape = _Shape(line_count, starts, ends, (numpy.flatnonzero(doubtful) + 1).tolist(), [])
    # Per-line flags from one pass over each mask (a reduction per line), whatever the share of such bytes. A
    # backslash (an escape may stand for any character) and DEL are looked for only where present.
    segments = numpy.minimum(starts, len(body) - 1)
    non_ascii = body >= 0x80
    has_non_ascii = numpy.logical_or.reduceat(non_ascii, segments) if non_ascii.any() else None
    if has_non_ascii is not None and not _is_utf8(data, shape, numpy.flatnonzero(has_non_ascii) + 1):
        return None
    marks = [has_non_ascii] if has_non_ascii is not None else []
    marks += [
        numpy.logical_or.reduceat(body == byte, segments) for byte in (BACKSLASH, DEL) if data.find(bytes([byte])) >= 0
    ]
    if marks:
        shape.not_ascii = (numpy.flatnonzero(numpy.logical_or.reduce(marks)) + 1).tolist()
    return shape


def _is_utf8(data: bytes, shape: _Shape, lines: numpy.ndarray) -> bool:
    """Whether `data` is valid UTF-8, decoding only `lines`, those that hold a non-ASCII byte: a newline byte is
    never part of a multi-byte sequence, so the file is valid exactly when each of those lines is (and its
    BOM). Decoding the whole file builds a wide string of every byte, so it is done only when most lines would
    be decoded anyway."""
    try:
        if len(lines) > shape.line_count // 2:
            data.decode("utf-8")
        else:
            for number in lines.tolist():
                data[shape.starts[number - 1] : shape.ends[number - 1]].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _line(data: bytes, shape: _Shape, number: int) -> bytes:
    """One physical line as lines.py gives it: trailing CRs removed, and a leading BOM."""
    text = data[shape.starts[number - 1] : shape.ends[number - 1]].rstrip(b"\r")
    while number == 1 and text.startswith(BOM):
        text = text[len(BOM) :]
    return text


def _split_lines(data: bytes) -> list[bytes]:
    """Physical lines as lines.py gives them: split on LF, trailing CRs removed, a leading BOM removed."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    lines = [piece.rstrip(b"\r") for piece in pieces]
    while lines and lines[0].startswith(BOM):
        lines[0] = lines[0][len(BOM) :]
    return lines


def _write_copy(entry: TypedFile, lines: list[bytes]) -> None:
    entry.copy_path.write_bytes(
        b"".join((PLACEHOLDER if n in entry.special else line) + b"\n" for n, line in enumerate(lines, start=1))
    )
    entry.read_path = entry.copy_path
