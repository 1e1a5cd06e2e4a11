"""Read JSON Lines files into a DuckDB table of physical lines with exact 1-based line numbers.

Shared by every loader. DuckDB's `read_text` gives exact line numbers (CRLF, blank lines and a BOM included)
but does not decompress, so `.gz` files are decompressed into a scratch folder first (a streamed copy, not a
loop over lines). A file that cannot be read at all (corrupt gzip, invalid UTF-8) is reported, not fatal.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb

# Reported as the file's one quarantined "line": line number 0 stands for the whole file.
WHOLE_FILE = 0
# JSON whitespace a line can start with (not LF: lines are split on it), as an SQL string for ltrim.
JSON_WHITESPACE_SQL = "chr(32) || chr(9) || chr(13)"


def parse_once_sql(path_list: str) -> str:
    """Select items over `lines` that parse each line ONCE, whatever the number of fields read from it:
    `is_blank`, `extracted` (the values at the paths of `path_list`, an SQL list of JSON path strings, as a
    list of JSON values; null for a blank line or invalid JSON) and `is_object` (valid JSON whose first
    character is a brace is an object). Parsing a line again per field was most of a loader's time."""
    # Both tests look at the first character and trim only where it could matter: trimming copies the whole
    # line, and transcript lines are long. A line that starts with a visible ASCII character is not blank,
    # and it is an object exactly when that character is a brace.
    is_blank = "case when ascii(line) between 33 and 127 then false else trim(line) = '' end"
    is_object = (
        f"case when ascii(line) between 33 and 127 then starts_with(line, '{{') "
        f"else starts_with(ltrim(line, {JSON_WHITESPACE_SQL}), '{{') end"
    )
    return (
        f"{is_blank} as is_blank, "
        f"case when not ({is_blank}) then try(json_extract(line, [{path_list}])) end as extracted, "
        f"{is_object} as is_object"
    )


def read_lines(
    conn: duckdb.DuckDBPyConnection, files: list[Path], raw_dir: Path, scratch: Path
) -> dict[str, str]:
    """Create temp tables `source_files(read_path, source_file)` and `lines(source_file, line_number, line)`.

    `source_file` is the path relative to the raw dir. Returns {source_file: reason} for unreadable files,
    which have no rows in `lines`.
    """
    copies, unreadable = _readable_copies(files, scratch, raw_dir)
    conn.execute("create or replace temp table source_files (read_path varchar, source_file varchar)")
    rows = [(str(read_path), reported) for read_path, reported in copies]
    rows += [(None, reported) for reported in unreadable]
    insert_rows(conn, "source_files", rows)
    readable = [str(read_path) for read_path, _ in copies]
    try:
        _create_lines(conn, readable)
    except duckdb.Error:
        # Some file is not valid text: find which, one by one, and read the rest.
        for read_path, reported in copies:
            try:
                # the content itself, not count(*): DuckDB does not read (nor validate) what is not selected
                conn.execute("select sum(length(content)) from read_text(?)", [str(read_path)]).fetchall()
            except duckdb.Error as error:
                unreadable[reported] = f"unreadable file: {str(error).splitlines()[0]}"
        bad = set(unreadable)
        _create_lines(conn, [str(r) for r, reported in copies if reported not in bad])
    return unreadable


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: list[tuple] | list[list]) -> None:
    """Insert Python rows in one statement, a list parameter per column: `executemany` runs one statement per
    row (about 0.1 ms each: a second per 10,000 transcript files)."""
    if not rows:
        return
    columns = [list(column) for column in zip(*rows)]
    conn.execute(f"insert into {table} select {', '.join('unnest(?)' for _ in columns)}", columns)


def reported_name(path: Path, raw_dir: Path) -> str:
    return str(path.relative_to(raw_dir)) if path.is_relative_to(raw_dir) else str(path)


def _readable_copies(files: list[Path], scratch: Path, raw_dir: Path) -> tuple[list[tuple[Path, str]], dict[str, str]]:
    """(path DuckDB reads, reported name) per file; gzip files are decompressed into the scratch folder."""
    copies: list[tuple[Path, str]] = []
    unreadable: dict[str, str] = {}
    for index, path in enumerate(files):
        reported = reported_name(path, raw_dir)
        if not path.name.endswith(".gz"):
            copies.append((path, reported))
            continue
        target = scratch / f"{index}.jsonl"
        try:
            with gzip.open(path, "rb") as compressed, open(target, "wb") as plain:
                shutil.copyfileobj(compressed, plain, length=1 << 20)
        except (OSError, EOFError) as error:
            unreadable[reported] = f"unreadable file: {error}"
            continue
        copies.append((target, reported))
    return copies, unreadable


def _create_lines(conn: duckdb.DuckDBPyConnection, read_paths: list[str]) -> None:
    """A final empty piece after a trailing newline is not a line. CR of CRLF line ends and a BOM at the
    start of the file are removed."""
    conn.execute("create or replace temp table lines (source_file varchar, line_number bigint, line varchar)")
    if not read_paths:
        return
    conn.execute(
        """
        insert into lines
        with texts as (
            select f.source_file, string_split(t.content, chr(10)) as pieces
            from read_text(?) as t
            join source_files as f on f.read_path = t.filename
        ),
        numbered as (
            select source_file, len(pieces) as piece_count,
                   unnest(pieces) as piece, unnest(generate_series(1, len(pieces))) as line_number
            from texts
        )
        -- rtrim only where there is a CR to remove: trimming copies the line (a transcript's lines are long)
        select source_file, line_number,
               case when line_number = 1 then ltrim(rtrim(piece, chr(13)), chr(65279))
                    when ends_with(piece, chr(13)) then rtrim(piece, chr(13)) else piece end as line
        from numbered
        where not (line_number = piece_count and piece = '')
        """,
        [read_paths],
    )
