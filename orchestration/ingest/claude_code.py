"""Load Claude Code transcripts: `<raw-dir>/claude_code/<user email>/projects/<encoded cwd>/<sessionId>.jsonl`
and subagent files `.../<sessionId>/subagents/agent-<agentId>.jsonl`.

Privacy: only the fields analytics needs are kept (ids, timestamps, model, token counts, cwd and git branch).
Prompt, response, tool and file content never leaves this module: not in the lake, not in quarantine (a
malformed line is reported by file, line and reason, without its text).

Usage entries: an `assistant` line's `message.usage`, and (Claude Code 2.x) the subagent assistant message a
`progress` record embeds at `data.message` (`data.type` "agent_progress"), read as ccusage reads it: its
timestamp, message and requestId are the embedded entry's, its agent the record's `data.agentId`. It is a
sidechain copy: where the subagent's own file is there too, the copies share (message.id, requestId); where
that file is gone, the embedded copy is the only record of the request.

Deduplication (content-block repeats, streamed partials, resume replays, sidechain and progress copies) happens
in dbt (int_claude_code_model_requests_conformed), across all files and collections, so the raw layer keeps
every usage line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from orchestration.ingest.collections import CollectionLoad, ParsedQueries, find_collections, load_collections
from orchestration.ingest.contract import (
    TOKEN_COUNT_MAX,
    identifier_reason_sql,
    timestamp_in_window_sql,
    timestamp_reason,
)
from orchestration.ingest.lines import duplicate_key_sql, object_keys_sql, parse_once_sql
from reports.analytics.vocabulary import TOKEN_FIELDS

log = logging.getLogger(__name__)

SOURCE = "claude_code"
# Claude Code may omit the cache counters; like ccusage, a missing one counts as 0. These two must be there.
REQUIRED_TOKEN_FIELDS = ("input_tokens", "output_tokens")
CACHE_WINDOWS = ("5m", "1h")
INTEGER_KINDS = ("UBIGINT", "BIGINT")
# A working directory is a path of at most this many characters (Linux's PATH_MAX) without control or format
# characters; its last component becomes a session's project id when no mapping matches (dbt's
# last_path_component), so it must pass the identifier rule.
CWD_MAX_LENGTH = 4096


def load_all(raw_dir: Path, lake_dir: Path, force: bool = False) -> list[CollectionLoad]:
    """One collection per collected config folder, <raw-dir>/claude_code/<user email>/."""
    return load_collections(
        source=SOURCE,
        collections=find_collections(raw_dir / SOURCE),
        raw_dir=raw_dir,
        lake_dir=lake_dir,
        parse=_parse,
        force=force,
    )


# Every field the loader reads, extracted in one parse of each line (`lines.parse_once_sql`): transcript lines
# carry whole prompts, responses and tool results. Name -> JSON path.
# The fields of a usage entry, relative to the entry: the line itself, or a progress record's `data.message`.
ENTRY_FIELDS = {
    "entry_type": "type",
    "timestamp_text": "timestamp",
    "usage": "message.usage",
    "message_id": "message.id",
    "request_id": "requestId",
    "model": "message.model",
    "is_api_error": "isApiErrorMessage",
    # The token counts too, so that no check or column parses the usage object again.
    **{f"{field}_json": f"message.usage.{field}" for field in TOKEN_FIELDS},
    **{
        f"cache_creation_{window}_json": f"message.usage.cache_creation.ephemeral_{window}_input_tokens"
        for window in CACHE_WINDOWS
    },
}
PROGRESS_ENTRY = "data.message"
EXTRACTED = {
    "line_type": "$.type",
    "session_id_json": "$.sessionId",
    "is_sidechain": "$.isSidechain",
    "agent_id": "$.agentId",
    "client_version": "$.version",
    "cwd": "$.cwd",
    "git_branch": "$.gitBranch",
    # only looked at: an object here marks a progress record that embeds a usage entry
    "progress_usage": f"$.{PROGRESS_ENTRY}.{ENTRY_FIELDS['usage']}",
    "progress_agent_id": "$.data.agentId",
    **{name: f"$.{path}" for name, path in ENTRY_FIELDS.items()},
}
# Token counts: extracted name -> field name in reasons.
TOKEN_COUNTS = {name: path for name, path in ENTRY_FIELDS.items() if name.endswith("_json")}
# Values kept as text must be JSON strings (or scalars), never an object or array whose text could carry
# content; the first group is read from every line (a session's span), the second from usage lines. All but
# gitBranch and cwd are identifiers (sessionId is checked on every line, the others on usage lines).
SPAN_TEXT_FIELDS = {"session_id_json": "sessionId", "cwd": "cwd", "git_branch": "gitBranch"}
REQUEST_TEXT_FIELDS = {
    "message_id": "message.id",
    "request_id": "requestId",
    "model": "message.model",
    "agent_id": "agentId",
    "client_version": "version",
}
BOOLEAN_FIELDS = {"is_sidechain": "isSidechain", "is_api_error": "isApiErrorMessage"}
# The objects whose keys must be unique on a line that carries usage: duplicates there make the line mean
# different things to different parsers (DuckDB reads the first value, JavaScript's JSON.parse the last).
ENTRY_OBJECTS = ("message", "message.usage", "message.usage.cache_creation")
KEYED_OBJECTS = {"$": "", **{f"$.{path}": f"{path}." for path in ENTRY_OBJECTS}}
PROGRESS_KEYED_OBJECTS = {
    "$": "",
    "$.data": "data.",
    f"$.{PROGRESS_ENTRY}": f"{PROGRESS_ENTRY}.",
    **{f"$.{PROGRESS_ENTRY}.{path}": f"{PROGRESS_ENTRY}.{path}." for path in ENTRY_OBJECTS},
}
# Extracted values kept as JSON: the usage object (only its type is read), the session id (its type is checked)
# and the token counts (their JSON type is checked).
JSON_VALUES = ("usage", "progress_usage", "session_id_json", *(name for name in EXTRACTED if name.endswith("_json")))


def _text_of(value: str) -> str:
    """`value ->> '$'` (the text of an extracted JSON value) without parsing it again where that is plainly
    the same: a minified string without escapes is its text between the quotes; other scalars are their text.
    Parsing every small extracted value again cost about as much as parsing the line."""
    return (
        f"case when {value} is null or {value} = 'null' then null "
        f"when left({value}, 1) = '\"' and not contains({value}, '\\') then {value}[2:-2] "
        f"when left({value}, 1) in ('\"', '{{', '[') then {value} ->> '$' else cast({value} as varchar) end"
    )


def _parse(conn: duckdb.DuckDBPyConnection) -> ParsedQueries:
    paths = ", ".join(f"'{path}'" for path in EXTRACTED.values())
    index = {name: position for position, name in enumerate(EXTRACTED, start=1)}
    embedded_paths = ", ".join(f"'$.{PROGRESS_ENTRY}.{path}'" for path in ENTRY_FIELDS.values())
    embedded_index = {name: position for position, name in enumerate(ENTRY_FIELDS, start=1)}
    # The extracted JSON value of each field; on a progress copy, the entry's fields are the embedded entry's.
    values = {name: f"extracted[{position}]" for name, position in index.items()}
    values |= {
        name: f"case when is_progress_copy then embedded[{embedded_index[name]}] else {values[name]} end"
        for name in ENTRY_FIELDS
    }
    values["agent_id"] = f"case when is_progress_copy then {values['progress_agent_id']} else {values['agent_id']} end"
    # Small JSON values (the usage object, or one scalar) stay JSON; the rest are read as text.
    fields = ",\n".join(
        f"{values[name]} as {name}" if name in JSON_VALUES else f"{_text_of(values[name])} as {name}"
        for name in EXTRACTED
    )
    is_progress_copy = (
        f"coalesce({_text_of(values['line_type'])} = 'progress' "
        f"and json_type({values['progress_usage']}) = 'OBJECT', false)"
    )
    assistant = f"{_text_of(values['entry_type'])} = 'assistant'"
    has_usage = f"json_type({values['usage']}) = 'OBJECT'"
    conn.execute(
        f"""
        create temp table parsed as
        with extracted as (
            select source_file, line_number, line, {parse_once_sql(paths)}
            from lines
        ),
        progress_copies as (
            select *, {is_progress_copy} as is_progress_copy
            from extracted
        ),
        entries as (
            -- a second parse, only of the few progress records that embed a usage entry
            select *, case when is_progress_copy then json_extract(line, [{embedded_paths}]) end as embedded
            from progress_copies
        ),
        docs as (
            select source_file, line_number, is_blank, extracted is not null as is_json, is_object,
                   is_progress_copy, {fields},
                   {_structured_field_sql(SPAN_TEXT_FIELDS, values)} as structured_span_field,
                   case when is_progress_copy
                        then {_structured_field_sql(_labels(REQUEST_TEXT_FIELDS, progress_copy=True), values)}
                        else {_structured_field_sql(REQUEST_TEXT_FIELDS, values)} end as structured_request_field,
                   {assistant} and {has_usage} as is_usage_line,
                   -- keys are read again (one more parse) only on the lines that may carry usage
                   case when extracted is not null and not is_progress_copy and ({has_usage} or {assistant})
                        then {object_keys_sql("line", KEYED_OBJECTS)} end as key_lists,
                   case when is_progress_copy then {object_keys_sql("line", PROGRESS_KEYED_OBJECTS)} end
                       as progress_key_lists
            from entries
        ),
        checked as (
            select *, coalesce({duplicate_key_sql("key_lists", KEYED_OBJECTS)},
                               {duplicate_key_sql("progress_key_lists", PROGRESS_KEYED_OBJECTS)}) as duplicate_key
            from docs
        )
        select * exclude (structured_span_field, structured_request_field, key_lists, progress_key_lists,
                          duplicate_key),
               {_text_of("session_id_json")} as session_id,
               try_cast(timestamp_text as timestamptz) as event_at,
               case when is_blank then null
                    when is_progress_copy then coalesce({_reasons(progress_copy=True)})
                    else coalesce({_reasons(progress_copy=False)}) end as reason
        from checked
        """
    )
    optional_tokens = ",\n".join(
        f"coalesce(cast({_text_of(f'{field}_json')} as bigint), 0) as {field}" for field in TOKEN_FIELDS
    )
    split_columns = ",\n".join(
        f"cast({_text_of(f'cache_creation_{window}_json')} as bigint) as cache_creation_{window}_input_tokens"
        for window in CACHE_WINDOWS
    )
    requests = f"""
        select source_file, line_number,
               session_id,
               cast(event_at at time zone 'UTC' as timestamp) as event_at_utc,
               -- a progress copy is subagent work, whatever the record's own isSidechain says
               is_progress_copy or coalesce(cast(is_sidechain as boolean), false) as is_sidechain,
               agent_id,
               message_id,
               request_id,
               model,
               {optional_tokens},
               {split_columns},
               coalesce(cast(is_api_error as boolean), false) as is_api_error,
               client_version
        from parsed
        where is_usage_line and reason is null
    """
    spans = """
        select source_file, session_id,
               cast(min(event_at) at time zone 'UTC' as timestamp) as first_at_utc,
               cast(max(event_at) at time zone 'UTC' as timestamp) as last_at_utc,
               count(*) as timestamped_lines,
               arg_min(cwd, line_number) filter (where cwd is not null) as cwd,
               arg_min(git_branch, line_number) filter (where git_branch is not null) as git_branch
        from parsed
        where reason is null and event_at is not null and session_id is not null
        group by source_file, session_id
    """
    quarantine = (
        "select source_file, line_number, reason, cast(null as varchar) as line from parsed where reason is not null"
    )
    summary = """
        select f.source_file,
               count(p.line_number) as lines_read,
               count(*) filter (where p.is_blank) as blank_lines,
               count(*) filter (where not p.is_blank and p.reason is null) as loaded_lines,
               count(*) filter (where p.reason is not null) as quarantined_lines,
               count(*) filter (where not p.is_blank and p.reason is null and not coalesce(p.is_usage_line, false))
                   as ignored_event_lines
        from source_files as f
        left join parsed as p using (source_file)
        group by f.source_file
    """
    return ParsedQueries(
        datasets={"claude_code_requests": requests, "claude_code_session_spans": spans},
        quarantine=quarantine,
        summary=summary,
    )


def _structured_field_sql(fields: dict[str, str], values: dict[str, str]) -> str:
    """SQL: the name of the first of `fields` whose extracted JSON value (SQL in `values`) is an object or an
    array (a look at its first character: no parse), else null."""
    cases = " ".join(f"when left({values[name]}, 1) in ('{{', '[') then '{label}'" for name, label in fields.items())
    return f"case {cases} end"


def _field_label(label: str, progress_copy: bool) -> str:
    """How a reason names a field: on a progress copy, an entry's field by its path in the record."""
    if not progress_copy:
        return label
    if label == "agentId":
        return "data.agentId"
    return f"{PROGRESS_ENTRY}.{label}" if label in ENTRY_FIELDS.values() else label


def _labels(fields: dict[str, str], progress_copy: bool) -> dict[str, str]:
    return {name: _field_label(label, progress_copy) for name, label in fields.items()}


def _reasons(progress_copy: bool) -> str:
    """Contract checks, in priority order, over the extracted fields. Only lines that carry usage must be
    complete; other line types (user, system, summary without a timestamp, snapshots) only need to be JSON
    objects whose timestamp, sessionId and cwd (they shape a session's span and project) are valid. Reasons
    name the fields of a progress copy's embedded entry by their path in the record."""
    usage = "is_usage_line"
    timestamp = _field_label("timestamp", progress_copy)
    checks = [
        "case when not is_json then 'invalid JSON (line content not kept)' end",
        "case when not is_object then 'not a JSON object (line content not kept)' end",
        "case when duplicate_key is not null then 'duplicate key ' || duplicate_key end",
        f"case when {usage} and try_cast(timestamp_text as timestamptz) is null "
        "then 'unparseable timestamp on a usage line' end",
        f"case when not {timestamp_in_window_sql('try_cast(timestamp_text as timestamptz)')} "
        f"then {timestamp_reason(timestamp, 'left(timestamp_text, 64)')} end",
        f"case when {usage} and json_type(session_id_json) is distinct from 'VARCHAR' "
        "then 'missing field sessionId on a usage line' end",
        "case when structured_span_field is not null "
        "then 'mistyped field ' || structured_span_field || ': expected a string' end",
        f"case when {usage} and structured_request_field is not null "
        "then 'mistyped field ' || structured_request_field || ': expected a string' end",
        identifier_reason_sql(_text_of("session_id_json"), "sessionId"),
        *(
            f"case when {usage} then {identifier_reason_sql(name, label)} end"
            for name, label in _labels(REQUEST_TEXT_FIELDS, progress_copy).items()
        ),
        f"case when length(cwd) > {CWD_MAX_LENGTH} "
        f"then 'invalid cwd: longer than {CWD_MAX_LENGTH} characters (' || length(cwd) || ')' end",
        "case when regexp_matches(cwd, '[\\p{Cc}\\p{Cf}]') then 'invalid cwd: a control or format character' end",
        # the last component as dbt's last_path_component macro takes it
        identifier_reason_sql("nullif(regexp_extract(rtrim(cwd, '/'), '([^/]+)$', 1), '')", "cwd (last component)"),
        *(
            f"case when {usage} and {name} is not null and try_cast({name} as boolean) is null "
            f"then 'mistyped field {label}: expected true or false' end"
            for name, label in _labels(BOOLEAN_FIELDS, progress_copy).items()
        ),
    ]
    for name, label in _labels(TOKEN_COUNTS, progress_copy).items():
        kind = f"json_type({name})"
        text = _text_of(name)
        value = f"try_cast({text} as hugeint)"
        # an integer literal too large for 64 bits is read as a DOUBLE: out of range, not mistyped
        is_integer = f"({kind} in {INTEGER_KINDS} or ({kind} = 'DOUBLE' and regexp_full_match({text}, '-?[0-9]+')))"
        if label.rsplit(".", 1)[-1] in REQUIRED_TOKEN_FIELDS:
            checks.append(f"case when {usage} and {kind} is null then 'missing field {label}' end")
        checks += [
            f"case when {usage} and {kind} is not null and not {is_integer} "
            f"then 'mistyped field {label}: expected integer' end",
            f"case when {usage} and {kind} is not null and starts_with({text}, '-') and {value} is distinct from 0 "
            f"then 'negative token count {label}' end",
            f"case when {usage} and {kind} is not null and coalesce({value} > {TOKEN_COUNT_MAX}, true) "
            f"then 'token count out of range {label}: ' || left({text}, 64) "
            f"|| ' (expected 0 to {TOKEN_COUNT_MAX})' end",
        ]
    return ",\n".join(checks)


# -- the collector's content-free copy (`session-analytics collect`) ------------------------------------------
#
# A laptop sends a copy of each transcript that keeps only what the loader reads (EXTRACTED, and ENTRY_FIELDS
# of a progress record's embedded entry), line for line: the loader reads the copy exactly as the original (the
# same requests, spans, quarantine rows at the same line numbers), and so does ccusage (the copy is a transcript
# it reads alike). Everything else -- prompts, responses, tool input and output, file snapshots, hook commands,
# summaries -- is dropped.

# Read by ccusage, not by the loader; kept so that ccusage counts the copy as it counts the original: costUSD
# (its `auto` cost mode), usage.speed ("fast" names the model <model>-fast) and the embedded entry's isSidechain.
CCUSAGE_FIELDS = (
    "costUSD",
    "message.usage.speed",
    f"{PROGRESS_ENTRY}.costUSD",
    f"{PROGRESS_ENTRY}.isSidechain",
    f"{PROGRESS_ENTRY}.message.usage.speed",
)
# A file whose last line has no newline and was modified this long ago is not being written any more.
OPEN_LINE_SETTLE_SECONDS = 600
# The invalid line a copy has where the original has a line that is not JSON: the loader quarantines it at the
# same line number ("invalid JSON"), and the upload receiver accepts it as the collector's (and only this).
INVALID_LINE = '{"session-analytics collect": "this line of the original file is not JSON; its text is not sent"'
# ccusage (20.x, adapter/claude) skips a line whose text lacks this, or names one of these fields before ":null".
_CCUSAGE_USAGE_MARKER = b'"usage":{'
_CCUSAGE_NULLABLE_NOT = frozenset(
    {
        b"id",
        b"cwd",
        b"model",
        b"speed",
        b"costUSD",
        b"version",
        b"sessionId",
        b"requestId",
        b"isApiErrorMessage",
        b"cache_read_input_tokens",
        b"cache_creation_input_tokens",
    }
)
# DuckDB's trim(): a line of only these is blank to the loader.
_BLANK_CHARACTERS = frozenset(
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)
# DuckDB's text to boolean cast accepts these (any case); another string in isSidechain is mistyped.
_BOOLEAN_TEXTS = frozenset({"true", "false", "t", "f", "1", "0", "yes", "no", "y", "n"})


def wanted(relative: PurePosixPath) -> bool:
    """The files of a Claude Code config folder that are transcripts: `projects/**/*.jsonl` (what ccusage reads
    too); never history.jsonl (the prompt history), todos, settings or shell snapshots."""
    parts = relative.parts
    return len(parts) >= 3 and parts[0] == "projects" and parts[-1].endswith(".jsonl") and len(parts[-1]) > 6


def _keep_tree() -> dict:
    """The kept fields as a tree of names: {"message": {"usage": {"input_tokens": {}, ...}, ...}, ...}."""
    paths = [path.removeprefix("$.") for path in EXTRACTED.values()]
    paths += [f"{PROGRESS_ENTRY}.{path}" for path in ENTRY_FIELDS.values()]
    tree: dict = {}
    for path in [*paths, *CCUSAGE_FIELDS]:
        node = tree
        for name in path.split("."):
            node = node.setdefault(name, {})
    return tree


_KEEP = _keep_tree()
_COUNT_FIELDS = frozenset((*TOKEN_FIELDS, *(f"ephemeral_{window}_input_tokens" for window in CACHE_WINDOWS), "costUSD"))
_FLAG_FIELDS = frozenset(label for label in BOOLEAN_FIELDS.values())


class _Number(str):
    """A JSON number (or NaN/Infinity) as written: copied to the copy digit for digit."""


class _Pairs(list):
    """A JSON object as its (key, value) pairs, duplicates and order kept."""


class _Unreadable(ValueError):
    """A line that is not UTF-8: the loader reads nothing of such a file."""


def strip_file(path: Path) -> bytes | None:
    """The content-free copy of the transcript at `path` (see above), or None when the file is not UTF-8 text
    (the loader would read nothing of it). A last line without its newline that is not JSON (or UTF-8) yet is
    being written, while the file was modified less than OPEN_LINE_SETTLE_SECONDS ago: it is left out (a later
    run sends the file with it). In a file left so for longer, it is a line cut for good (a crash): the copy has
    INVALID_LINE there, which the loader quarantines at that line as it quarantines the original's."""
    try:
        data = path.read_bytes()
        settled = time.time() - path.stat().st_mtime >= OPEN_LINE_SETTLE_SECONDS
    except OSError:
        return None
    *complete, partial = data.split(b"\n")
    out: list[str] = []
    try:
        for number, raw in enumerate(complete, start=1):
            out.append(_strip_line(raw, first=number == 1))
        if partial:
            out.append(_strip_line(partial, first=not complete, partial=not settled))
    except _Unreadable:
        return None
    except _CutLine:
        pass  # the partial last line is left out
    return "".join(line + "\n" for line in out).encode("utf-8")


class _CutLine(Exception):
    """A last line without its newline that is not (yet) JSON or UTF-8: being written."""


def _strip_line(raw: bytes, first: bool, partial: bool = False) -> str:
    raw = raw.rstrip(b"\r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if partial:
            raise _CutLine() from None
        raise _Unreadable() from None
    bom = first and text.startswith("\ufeff")
    if bom:
        text = text.lstrip("\ufeff")
    if all(character in _BLANK_CHARACTERS for character in text):
        return ""
    strict = [not bom]  # cleared where ccusage's strict reader (serde_json) would refuse the line
    try:
        value = _parsed(text, strict)
    except (ValueError, RecursionError):
        if partial:
            raise _CutLine() from None
        # The loader's reader (DuckDB's) is more lenient (trailing commas): read the line as it does.
        value = _read_as_the_loader_does(text, strict)
        if value is None:
            return INVALID_LINE
        strict[0] = False
    if _refused_by_serde(value):
        strict[0] = False
    ccusage_reads = strict[0] and _CCUSAGE_USAGE_MARKER in raw and not _has_unsupported_null_field(raw)
    kept = _kept(value, _KEEP, None)
    return _dumps(kept, ccusage_reads)


def _parsed(text: str, strict: list[bool]):
    def constant(name: str) -> _Number:  # NaN, Infinity: DuckDB reads them, serde_json does not
        strict[0] = False
        return _Number(name)

    return json.loads(text, object_pairs_hook=_Pairs, parse_int=_Number, parse_float=_Number, parse_constant=constant)


_lenient_reader: list[duckdb.DuckDBPyConnection] = []


def _read_as_the_loader_does(text: str, strict: list[bool]):
    """A line Python's reader refuses, as DuckDB's json() rewrites it (None where DuckDB refuses it too, or writes
    what Python still cannot read, such as a lower-case nan)."""
    if not _lenient_reader:
        _lenient_reader.append(duckdb.connect(":memory:"))
    try:
        rewritten = _lenient_reader[0].execute("select json(?)", [text]).fetchone()[0]
        return _parsed(rewritten, strict) if rewritten is not None else None
    except (duckdb.Error, ValueError, RecursionError, UnicodeEncodeError):
        return None


def _kept(value, keep: dict, name: str | None):
    """`value` with only the fields of `keep`; a value of another type than a kept field's is replaced by an
    empty one of its own type (the loader then finds the same mistyped field), and so is a dropped field whose
    key occurs twice in its object (the loader refuses duplicate keys)."""
    if keep:  # an object of kept fields
        if not isinstance(value, _Pairs):
            return _emptied(value)
        counts: dict[str, int] = {}
        for key, _ in value:
            counts[key] = counts.get(key, 0) + 1
        return _Pairs(
            (key, _kept(item, keep[key], key) if key in keep else _emptied(item))
            for key, item in value
            if key in keep or counts[key] > 1
        )
    if isinstance(value, (_Pairs, list)):
        return _emptied(value)
    if isinstance(value, str) and not isinstance(value, _Number):
        if name in _COUNT_FIELDS:
            return ""
        if name in _FLAG_FIELDS and value.lower() not in _BOOLEAN_TEXTS:
            return ""
    return value


def _emptied(value):
    if isinstance(value, _Pairs):
        return _Pairs()
    if isinstance(value, list):
        return []
    if isinstance(value, str) and not isinstance(value, _Number):
        return ""
    return value


def _dumps(value, ccusage_reads: bool) -> str:
    """Compact JSON, as Claude Code writes it. Where ccusage would skip the original line, the copy's usage key is
    written `"usage": {` (with a space), which ccusage skips too; where it reads it, nulls are written `: null`,
    which its null-field check does not look at (the original had none it refuses)."""
    if isinstance(value, _Pairs):
        items = []
        for key, item in value:
            text = _dumps(item, ccusage_reads)
            separator = ":" if ccusage_reads or key != "usage" or not text.startswith("{") else ": "
            if ccusage_reads and item is None:
                separator = ": "
            items.append(json.dumps(key) + separator + text)
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(item, ccusage_reads) for item in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    return json.dumps(value)


def _refused_by_serde(value) -> bool:
    """Whether ccusage's reader refuses the line (as ccusage 20.0.24 was seen to): a string with a lone surrogate
    escape (\\ud800, which Python's reader takes), or a null together with a key that occurs twice in an object,
    wherever they are in the line (content included)."""
    has_null = has_duplicate = False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Pairs):
            keys = [key for key, _ in item]
            has_duplicate = has_duplicate or len(set(keys)) < len(keys)
            stack.extend(keys)
            stack.extend(child for _, child in item)
        elif isinstance(item, list):
            stack.extend(item)
        elif item is None:
            has_null = True
        elif isinstance(item, str) and not isinstance(item, _Number):
            if not item.isascii() and any("\ud800" <= character <= "\udfff" for character in item):
                return True
    return has_null and has_duplicate


def _has_unsupported_null_field(line: bytes) -> bool:
    """ccusage's has_unsupported_null_field (adapter/claude/mod.rs), byte for byte."""
    offset = 0
    quote = ord('"')
    while (index := line.find(b":null", offset)) != -1:
        field_end = max(index - 1, 0)
        if line[field_end] != quote:
            while field_end > 0 and line[field_end] != quote:
                field_end -= 1
        if line[field_end] == quote:
            field_start = max(field_end - 1, 0)
            while field_start > 0 and line[field_start] != quote:
                field_start -= 1
            if line[field_start] == quote and line[field_start + 1 : field_end] in _CCUSAGE_NULLABLE_NOT:
                return True
        offset = index + len(b":null")
    return False


@dataclass(frozen=True)
class CollectedFormat:
    """What `session-analytics collect` needs of a source (the agent-log sources' FORMAT has the same fields)."""

    source: str
    wanted: Callable[[PurePosixPath], bool]
    strip_file: Callable[[Path], bytes | None]
    local_home: str
    home_env: str | None
    # CLAUDE_CONFIG_DIR may name several folders, comma-separated (as ccusage reads it)
    home_env_separator: str | None = None
    # also looked at when neither a flag nor the variable names a folder, where it exists (ccusage does too)
    other_local_homes: tuple[str, ...] = ()


COLLECTED = CollectedFormat(
    source=SOURCE,
    wanted=wanted,
    strip_file=strip_file,
    local_home="~/.claude",
    home_env="CLAUDE_CONFIG_DIR",
    home_env_separator=",",
    other_local_homes=("~/.config/claude",),
)
