"""Read JSON Lines files into a DuckDB table of physical lines with exact 1-based line numbers.

Shared by every loader. DuckDB's `read_text` gives exact line numbers (CRLF, blank lines and a BOM included)
but does not decompress, so `.gz` files are decompressed into a scratch folder first (a streamed copy, not a
loop over lines). A file that cannot be read at all (corrupt gzip, invalid UTF-8, a name that is not UTF-8) is
reported, not fatal.
"""

from __future__ import annotations

import gzip
import os
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


def object_keys_sql(json_text: str, objects: dict[str, str]) -> str:
    """SQL: the keys of each of the `objects` (JSON path -> how its keys are named in a reason, e.g.
    {'$.message': 'message.'}) of the JSON text `json_text`, duplicates included: a list per object. This parses
    the text again: use it only where duplicate keys matter. json_keys unescapes keys, so "session\\u0049d" is
    a second sessionId."""
    return f"json_keys({json_text}, [{', '.join(repr(path) for path in objects)}])"


def duplicate_key_sql(key_lists: str, objects: dict[str, str]) -> str:
    """SQL: the first key that occurs twice in one of the lists of `key_lists` (object_keys_sql of the same
    `objects`), named with its object's prefix, else null. A key that is not a plain name is shown as <other>
    (it could be anything). Naming runs only where some list has a duplicate: list lambdas are slow."""
    levels = range(1, len(objects) + 1)
    any_duplicate = " or ".join(f"list_unique({key_lists}[{level}]) < len({key_lists}[{level}])" for level in levels)
    prefixes = ", ".join(repr(prefix) for prefix in objects.values())
    shown = "case when regexp_full_match(key, '[A-Za-z0-9_.]{1,64}') then key else '<other>' end"
    return (
        f"case when {any_duplicate} then flatten(list_transform({key_lists}, lambda keys, level: list_transform("
        "list_filter(coalesce(keys, []), lambda key, position: list_position(keys, key) < position), "
        f"lambda key: [{prefixes}][level] || {shown})))[1] end"
    )


def read_lines(conn: duckdb.DuckDBPyConnection, files: list[Path], raw_dir: Path, scratch: Path) -> dict[str, str]:
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
    """A file's name in quarantine, summaries and load state: its path under the raw dir, printable. File names
    come from whoever fills the raw dir: a character that is not printable (a control or format character such
    as LF or U+202E, a byte that is not UTF-8) is written as an escape (\\uXXXX), and a backslash as two, so that
    distinct names stay distinct."""
    name = str(path.relative_to(raw_dir)) if path.is_relative_to(raw_dir) else str(path)
    if name.isprintable() and "\\" not in name:
        return name
    return "".join(
        character if character.isprintable() and character != "\\" else _escaped(character) for character in name
    )


def _escaped(character: str) -> str:
    if character == "\\":
        return "\\\\"
    return f"\\u{ord(character):04X}" if ord(character) <= 0xFFFF else f"\\U{ord(character):08X}"


# DuckDB reads a path with one of these characters as a glob pattern: `a*.jsonl` would read `ab.jsonl` too.
GLOB_CHARACTERS = frozenset("*?[]{}\\")


def _readable_copies(files: list[Path], scratch: Path, raw_dir: Path) -> tuple[list[tuple[Path, str]], dict[str, str]]:
    """(path DuckDB reads, reported name) per file; gzip files are decompressed into the scratch folder, and a
    file whose path DuckDB would read as a pattern is read through a link in it."""
    copies: list[tuple[Path, str]] = []
    unreadable: dict[str, str] = {}
    for index, path in enumerate(files):
        reported = reported_name(path, raw_dir)
        text = str(path)
        if not text.isascii() and not encodes_as_utf8(text):
            unreadable[reported] = "unreadable file: its name is not valid UTF-8"
            continue
        if not path.name.endswith(".gz"):
            copies.append((unglobbed(path, scratch / f"lines-{index}.jsonl"), reported))
            continue
        target = scratch / f"lines-{index}.jsonl"
        try:
            with gzip.open(path, "rb") as compressed, open(target, "wb") as decompressed:
                shutil.copyfileobj(compressed, decompressed, length=1 << 20)
        except (OSError, EOFError) as error:
            unreadable[reported] = f"unreadable file: {error}"
            continue
        copies.append((target, reported))
    return copies, unreadable


def unglobbed(path: Path, link: Path) -> Path:
    """`path`, or when DuckDB would read it as a glob pattern, `link` (a new symbolic link to it)."""
    if GLOB_CHARACTERS.isdisjoint(str(path)):
        return path
    link.unlink(missing_ok=True)
    os.symlink(path.absolute(), link)
    return link


def encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of a file name arrive as lone surrogates
        return False
    return True


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
