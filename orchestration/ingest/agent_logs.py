"""Local logs of the coding agents other than Claude Code (Codex CLI, Gemini CLI, Copilot CLI): one framework,
one format module per agent.

Layout as for Claude Code: `<raw-dir>/<source>/<user email>/<path as under the agent's home folder>`, one
collection per collected home (the user's email), loaded incrementally by `collections.load_collections`.

A format module (orchestration/ingest/codex.py, ...) knows its files: which ones are read, how one file's lines
become model requests and session facts, how the collector makes a content-free copy, and how ccusage reads the
same files. This module does the rest for all of them: it reads the lines, hands each file's lines to its parser
(a line that carries none of the format's markers is passed without its text, so content never enters Python),
applies the value contract to every record (identifiers, token counts, timestamps: a record that breaks it is
quarantined at its line), derives the per-file line counts, and writes the lake datasets `<source>_requests` and
`<source>_sessions`, whose columns are the same for every agent. dbt reads them through
`stg_<source>__requests` / `stg_<source>__sessions` into `int_agent_logs_*_conformed`.

Line counts: every non-blank line is loaded or quarantined (a line with a quarantine row is quarantined, also
when other records of it are kept); a loaded line that carries no record is an ignored event line.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import duckdb

from orchestration.ingest import lake
from orchestration.ingest.collections import CollectionLoad, ParsedQueries, find_collections, load_collections
from orchestration.ingest.contract import (
    TIMESTAMP_WINDOW_END,
    TIMESTAMP_WINDOW_START,
    TIMESTAMP_WINDOW_TEXT,
    TOKEN_COUNT_MAX,
    RawFiles,
    identifier_problem,
)
from orchestration.ingest.lines import insert_rows

log = logging.getLogger(__name__)

# The format modules, in the order their loads run; each defines FORMAT (and CCUSAGE for the parity check).
SOURCES = lake.AGENT_LOG_SOURCES
# A working directory is a path of at most this many characters (Linux's PATH_MAX), as for Claude Code.
PATH_MAX_LENGTH = 4096
# Repository names ("owner/name", or a deeper group path) and branch names: git allows long ones.
NAME_MAX_LENGTH = 512
FETCH_ROWS = 20_000


@dataclass(frozen=True)
class Request:
    """One model request, as the warehouse counts it."""

    line_number: int  # the physical line that carries it (of a JSON document: where the record starts)
    session_id: str
    request_key: str  # unique per request within the source; copies of one request share it (dbt keeps one)
    event_at_utc: dt.datetime  # naive UTC
    model: str | None  # None: 'unknown' (unpriced)
    is_fallback_model: bool  # the model was assumed (early Codex logs: gpt-5, as ccusage assumes)
    input_tokens: int  # input not read from cache
    output_tokens: int  # output as billed (reasoning and thoughts included)
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_output_tokens: int  # informational: already in output_tokens
    client_version: str | None = None


@dataclass(frozen=True)
class Session:
    """What one file says about a session (several files may speak of one session)."""

    line_number: int  # the line that names the session (0: the file as a whole)
    session_id: str
    first_at_utc: dt.datetime
    last_at_utc: dt.datetime
    cwd: str | None = None
    git_branch: str | None = None
    repository: str | None = None  # "owner/name" from the git remote, credentials never kept
    client_version: str | None = None


@dataclass
class ParsedFile:
    requests: list[Request] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    quarantined: list[tuple[int, str]] = field(default_factory=list)  # (line_number, reason); 0 = whole file


Lines = list[tuple[int, str | None]]  # (line number, text; None for valid JSON that has none of the markers)


@dataclass(frozen=True)
class CcusageParity:
    """How ccusage reads the same files: `ccusage <command> daily --json --offline`."""

    command: str
    # env vars that point ccusage at the collected homes (<raw-dir>/<source>/<email>); None when it can read
    # only one at a time: then it is run once per home, env([home]), and the figures are added up
    env: Callable[[list[Path]], dict[str, str] | None]
    rows: Callable[[dict], dict[tuple[str, str], dict[str, int]]]  # --json output -> {(day, model): {kind: n}}
    kinds: dict[str, str]  # ccusage kind -> SQL sum expression over the requests' token columns


@dataclass(frozen=True)
class AgentLogFormat:
    source: str  # the raw-dir folder and lake prefix
    agent: str  # the sessions' agent
    parse_file: Callable[[str, Lines], ParsedFile]
    line_markers: tuple[str, ...] | None  # lines with none of these are passed without text; None: all text
    wanted: Callable[[PurePosixPath], bool]  # files read, by path under the collection folder
    strip_file: Callable[[Path], bytes | None]  # the collector's content-free copy, in the same format
    local_home: str  # the agent's folder on a laptop, e.g. "~/.codex"
    home_env: str | None = None  # the env var that moves it, e.g. "CODEX_HOME"
    suffixes: tuple[str, ...] = (".jsonl", ".jsonl.gz")  # names of files looked at (then `wanted`)


def formats() -> list[AgentLogFormat]:
    return [importlib.import_module(f"orchestration.ingest.{source}").FORMAT for source in SOURCES]


def format_of(source: str) -> AgentLogFormat:
    return next(fmt for fmt in formats() if fmt.source == source)


def load_all(fmt: AgentLogFormat, raw_dir: Path, lake_dir: Path, force: bool = False) -> list[CollectionLoad]:
    """One collection per collected home, <raw-dir>/<source>/<user email>/."""
    root = raw_dir / fmt.source
    collections = {}
    for name, found in find_collections(root, suffixes=fmt.suffixes).items():
        folder = root / name
        kept = [
            path
            for path in found.files
            if path.is_relative_to(folder) and fmt.wanted(PurePosixPath(path.relative_to(folder).as_posix()))
        ]
        collections[name] = RawFiles(files=kept, skipped=found.skipped)
    return load_collections(
        source=fmt.source,
        collections=collections,
        raw_dir=raw_dir,
        lake_dir=lake_dir,
        parse=lambda conn: _parse(conn, fmt),
        force=force,
    )


def load_every_format(raw_dir: Path, lake_dir: Path, force: bool = False) -> dict[str, list[CollectionLoad]]:
    return {fmt.source: load_all(fmt, raw_dir, lake_dir, force) for fmt in formats()}


# -- parsing --------------------------------------------------------------------------------------------------


def _parse(conn: duckdb.DuckDBPyConnection, fmt: AgentLogFormat) -> ParsedQueries:
    conn.execute(
        "create temp table parsed_requests as select * from (select "
        + _typed_nulls(lake.DATASETS[f"{fmt.source}_requests"]["columns"])
        + ") where false"
    )
    conn.execute(
        "create temp table parsed_sessions as select * from (select "
        + _typed_nulls(lake.DATASETS[f"{fmt.source}_sessions"]["columns"])
        + ") where false"
    )
    conn.execute("create temp table parsed_quarantine (source_file varchar, line_number bigint, reason varchar)")
    conn.execute(
        "create temp table parsed_summary (source_file varchar, lines_read bigint, blank_lines bigint, "
        "loaded_lines bigint, quarantined_lines bigint, ignored_event_lines bigint)"
    )
    requests, sessions, quarantine, summary = [], [], [], []
    for source_file, read, blank, lines in _file_lines(conn, fmt.line_markers):
        parsed = _parsed_safely(fmt, source_file, lines)
        checked = check(parsed)
        # One row per request and line: a record repeated on its line (a span exported twice in one batch) is
        # one copy. Copies on other lines or in other files are deduplicated by dbt, by request_key.
        unique = {(request.line_number, request.request_key): request for request in reversed(checked.requests)}
        requests += [(source_file, *_request_row(request)) for request in reversed(unique.values())]
        sessions += [(source_file, *_session_row(session)) for session in checked.sessions]
        # One quarantine row per line, with its first reason.
        reasons: dict[int, str] = {}
        for line, reason in checked.quarantined:
            reasons.setdefault(line, reason)
        quarantine += [(source_file, line, reason) for line, reason in reasons.items()]
        bad_lines = set(reasons)
        carrying = {record.line_number for record in (*checked.requests, *checked.sessions)} - bad_lines
        quarantined = len(bad_lines)
        loaded = read - blank - quarantined
        if loaded < 0:  # a parser quarantined lines it was not given (line 0 of a file with none)
            quarantined, loaded = read - blank, 0
        summary.append((source_file, read, blank, loaded, quarantined, max(0, loaded - len(carrying))))
    insert_rows(conn, "parsed_requests", requests)
    insert_rows(conn, "parsed_sessions", sessions)
    insert_rows(conn, "parsed_quarantine", quarantine)
    insert_rows(conn, "parsed_summary", summary)
    # Files with no line at all (empty) are summarised too: lines_read 0.
    conn.execute(
        "insert into parsed_summary select source_file, 0, 0, 0, 0, 0 from source_files "
        "where read_path is not null and source_file not in (select source_file from parsed_summary)"
    )
    return ParsedQueries(
        datasets={
            f"{fmt.source}_requests": "select * from parsed_requests",
            f"{fmt.source}_sessions": "select * from parsed_sessions",
        },
        quarantine="select source_file, line_number, reason, cast(null as varchar) as line from parsed_quarantine",
        summary="select * from parsed_summary",
    )


def _typed_nulls(columns: dict[str, str]) -> str:
    return ", ".join(f"cast(null as {sql_type}) as {name}" for name, sql_type in columns.items())


def _file_lines(
    conn: duckdb.DuckDBPyConnection, markers: tuple[str, ...] | None
) -> Iterator[tuple[str, int, int, Lines]]:
    """(source file, lines read, blank lines, its non-blank lines) per file. The text of a valid JSON line that
    has none of the markers stays in DuckDB."""
    if markers:
        has_marker = " or ".join(f"contains(line, '{marker.replace(chr(39), chr(39) * 2)}')" for marker in markers)
        text = f"case when {has_marker} or not json_valid(line) then line end"
    else:
        text = "line"
    cursor = conn.execute(
        f"select source_file, line_number, trim(line) = '' as is_blank, "
        f"case when trim(line) = '' then null else {text} end as text "
        "from lines order by source_file, line_number"
    )
    current, read, blank, lines = None, 0, 0, []
    while rows := cursor.fetchmany(FETCH_ROWS):
        for source_file, line_number, is_blank, line_text in rows:
            if source_file != current:
                if current is not None:
                    yield current, read, blank, lines
                current, read, blank, lines = source_file, 0, 0, []
            read += 1
            if is_blank:
                blank += 1
            else:
                lines.append((line_number, line_text))
    if current is not None:
        yield current, read, blank, lines


def _parsed_safely(fmt: AgentLogFormat, source_file: str, lines: Lines) -> ParsedFile:
    """A parser's failure on one file quarantines that file, never the load."""
    try:
        return fmt.parse_file(source_file, lines)
    except Exception as error:  # noqa: BLE001 - one hostile file must not stop the others
        log.exception("%s parser failed on %s", fmt.source, source_file)
        return ParsedFile(quarantined=[(0, f"the file could not be parsed ({type(error).__name__})")])


# -- the value contract -----------------------------------------------------------------------------------------


def check(parsed: ParsedFile) -> ParsedFile:
    """The records that keep the value contract, and a quarantine row for each one that breaks it."""
    kept = ParsedFile(quarantined=list(parsed.quarantined))
    for request in parsed.requests:
        problem = request_problem(request)
        if problem:
            kept.quarantined.append((request.line_number, problem))
        else:
            kept.requests.append(request)
    for session in parsed.sessions:
        problem = session_problem(session)
        if problem:
            kept.quarantined.append((session.line_number, problem))
        else:
            kept.sessions.append(session)
    return kept


TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_output_tokens",
)


def request_problem(request: Request) -> str | None:
    for name in ("session_id", "request_key", "model", "client_version"):
        problem = _identifier(getattr(request, name), name, optional=name in ("model", "client_version"))
        if problem:
            return problem
    for name in TOKEN_COLUMNS:
        value = getattr(request, name)
        if type(value) is not int or not 0 <= value <= TOKEN_COUNT_MAX:
            return f"{name} is not a token count between 0 and {TOKEN_COUNT_MAX:,}"
    if request.reasoning_output_tokens > request.output_tokens:
        return "reasoning_output_tokens is more than output_tokens"
    return _timestamp_problem(request.event_at_utc, "timestamp")


def session_problem(session: Session) -> str | None:
    for name in ("session_id", "client_version"):
        problem = _identifier(getattr(session, name), name, optional=name == "client_version")
        if problem:
            return problem
    for name, limit in (("cwd", PATH_MAX_LENGTH), ("git_branch", NAME_MAX_LENGTH), ("repository", NAME_MAX_LENGTH)):
        value = getattr(session, name)
        if value is None:
            continue
        if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
            return f"{name} is not printable text of 1 to {limit} characters"
    if session.cwd is not None:
        last = session.cwd.rstrip("/").rsplit("/", 1)[-1]
        problem = last and identifier_problem(last)
        if problem:
            return f"cwd: its last component is not a valid identifier ({problem})"
    for name in ("first_at_utc", "last_at_utc"):
        problem = _timestamp_problem(getattr(session, name), name)
        if problem:
            return problem
    if session.last_at_utc < session.first_at_utc:
        return "last_at_utc is before first_at_utc"
    return None


def _identifier(value, name: str, optional: bool) -> str | None:
    if value is None:
        return None if optional else f"{name} is missing"
    if not isinstance(value, str):
        return f"{name} is not a string"
    problem = identifier_problem(value)
    return f"{name} is not a valid identifier ({problem})" if problem else None


_WINDOW = (TIMESTAMP_WINDOW_START.replace(tzinfo=None), TIMESTAMP_WINDOW_END.replace(tzinfo=None))


def _timestamp_problem(value, name: str) -> str | None:
    if not isinstance(value, dt.datetime) or value.tzinfo is not None:
        return f"{name} is not a UTC timestamp"
    if not _WINDOW[0] <= value < _WINDOW[1]:
        return f"{name} outside {TIMESTAMP_WINDOW_TEXT}"
    return None


def _request_row(request: Request) -> tuple:
    return (
        request.line_number,
        request.session_id,
        request.request_key,
        request.event_at_utc,
        request.model,
        request.is_fallback_model,
        *(getattr(request, name) for name in TOKEN_COLUMNS),
        request.client_version,
    )


def _session_row(session: Session) -> tuple:
    return (
        session.line_number,
        session.session_id,
        session.first_at_utc,
        session.last_at_utc,
        session.cwd,
        session.git_branch,
        session.repository,
        session.client_version,
    )


# -- shared helpers for format modules -------------------------------------------------------------------------


def parse_utc(text) -> dt.datetime | None:
    """An ISO 8601 timestamp (with Z or an offset) as naive UTC; None if it is not one."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None  # a local time without an offset cannot be placed
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def repository_from_remote(url) -> str | None:
    """ "owner/name" (or "group/sub/name") from a git remote URL: https://[user:token@]host/owner/name(.git),
    git@host:owner/name.git, ssh://git@host/owner/name. Credentials and host are never kept."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    text = url.strip()
    if "://" in text:
        rest = text.split("://", 1)[1]
        rest = rest.split("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
        path = rest.split("/", 1)[1] if "/" in rest else ""
    elif ":" in text:  # scp-like: git@host:owner/name.git
        path = text.split(":", 1)[1]
    else:
        return None
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    path = path.removesuffix(".git").strip("/")
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2 or any(part in (".", "..") for part in parts):
        return None
    name = "/".join(parts)
    return name if name.isprintable() and len(name) <= NAME_MAX_LENGTH else None
