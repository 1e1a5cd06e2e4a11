"""Load Claude Code transcripts: `<raw-dir>/claude_code/<user email>/projects/<encoded cwd>/<sessionId>.jsonl`
and subagent files `.../<sessionId>/subagents/agent-<agentId>.jsonl`.

Privacy: only the fields analytics needs are kept (ids, timestamps, model, token counts, cwd and git branch).
Prompt, response, tool and file content never leaves this module: not in the lake, not in quarantine (a
malformed line is reported by file, line and reason, without its text).

Deduplication (content-block repeats, streamed partials, resume replays, sidechain copies) happens in dbt
(int_claude_code__model_requests), across all files and collections, so the raw layer keeps every usage line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from orchestration.sources.collections import CollectionLoad, ParsedQueries, load_collections
from orchestration.sources.lines import parse_once_sql

log = logging.getLogger(__name__)

SOURCE = "claude_code"
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# Claude Code may omit the cache counters; like ccusage, a missing one counts as 0. These two must be there.
REQUIRED_TOKEN_FIELDS = ("input_tokens", "output_tokens")
INTEGER_KINDS = ("UBIGINT", "BIGINT")


def collections(raw_dir: Path) -> list[str]:
    """One collection per collected config folder: <raw-dir>/claude_code/<user email>/."""
    root = raw_dir / SOURCE
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def collection_files(raw_dir: Path, collection: str) -> list[Path]:
    folder = raw_dir / SOURCE / collection
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))


def load_all(raw_dir: Path, lake_dir: Path, force: bool = False) -> list[CollectionLoad]:
    return load_collections(
        source=SOURCE,
        collections={name: collection_files(raw_dir, name) for name in collections(raw_dir)},
        raw_dir=raw_dir,
        lake_dir=lake_dir,
        parse=_parse,
        force=force,
    )


# Every field the loader reads, extracted in one parse of each line (`lines.parse_once_sql`): transcript lines
# carry whole prompts, responses and tool results. Name -> JSON path.
EXTRACTED = {
    "line_type": "$.type",
    "timestamp_text": "$.timestamp",
    "session_id_json": "$.sessionId",
    "usage": "$.message.usage",
    "is_sidechain": "$.isSidechain",
    "agent_id": "$.agentId",
    "message_id": "$.message.id",
    "request_id": "$.requestId",
    "model": "$.message.model",
    "is_api_error": "$.isApiErrorMessage",
    "client_version": "$.version",
    "cwd": "$.cwd",
    "git_branch": "$.gitBranch",
    # The token counts too, so that no check or column parses the usage object again.
    **{f"{field}_json": f"$.message.usage.{field}" for field in TOKEN_FIELDS},
    **{f"cache_creation_{window}_json": f"$.message.usage.cache_creation.ephemeral_{window}_input_tokens"
       for window in ("5m", "1h")},
}
# Extracted values kept as JSON: the usage object (only its type is read), the session id (its type is checked)
# and the token counts (their JSON type is checked).
JSON_VALUES = ("usage", "session_id_json", *(name for name in EXTRACTED if name.endswith("_json")))


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
    # Small JSON values (the usage object, or one scalar) stay JSON; the rest are read as text.
    fields = ",\n".join(
        f"extracted[{index}] as {name}" if name in JSON_VALUES else f"{_text_of(f'extracted[{index}]')} as {name}"
        for index, name in enumerate(EXTRACTED, start=1)
    )
    conn.execute(
        f"""
        create temp table parsed as
        with extracted as (
            select source_file, line_number, {parse_once_sql(paths)}
            from lines
        ),
        docs as (
            select source_file, line_number, is_blank, extracted is not null as is_json, is_object, {fields}
            from extracted
        )
        select *, session_id_json ->> '$' as session_id,
               line_type = 'assistant' and json_type(usage) = 'OBJECT' as is_usage_line,
               try_cast(timestamp_text as timestamptz) as event_at,
               case when is_blank then null else coalesce({_reasons()}) end as reason
        from docs
        """
    )
    optional_tokens = ",\n".join(
        f"coalesce(cast({_text_of(f'{field}_json')} as bigint), 0) as {field}" for field in TOKEN_FIELDS
    )
    split_columns = ",\n".join(
        f"cast({_text_of(f'cache_creation_{window}_json')} as bigint) as cache_creation_{window}_input_tokens"
        for window in ("5m", "1h")
    )
    requests = f"""
        select source_file, line_number,
               session_id,
               cast(event_at at time zone 'UTC' as timestamp) as event_at_utc,
               coalesce(cast(is_sidechain as boolean), false) as is_sidechain,
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
        "select source_file, line_number, reason, cast(null as varchar) as line "
        "from parsed where reason is not null"
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


def _reasons() -> str:
    """Contract checks, in priority order, over the extracted fields. Only lines that carry usage must be
    complete; other line types (user, system, summary without a timestamp, snapshots) only need to be JSON
    objects."""
    usage = "line_type = 'assistant' and json_type(usage) = 'OBJECT'"
    checks = [
        "case when not is_json then 'invalid JSON (line content not kept)' end",
        "case when not is_object then 'not a JSON object (line content not kept)' end",
        f"case when {usage} and try_cast(timestamp_text as timestamptz) is null "
        "then 'unparseable timestamp on a usage line' end",
        f"case when {usage} and json_type(session_id_json) is distinct from 'VARCHAR' "
        "then 'missing field sessionId on a usage line' end",
    ]
    for field in TOKEN_FIELDS:
        kind = f"json_type({field}_json)"
        if field in REQUIRED_TOKEN_FIELDS:
            checks.append(f"case when {usage} and {kind} is null then 'missing field message.usage.{field}' end")
        checks.append(
            f"case when {usage} and {kind} is not null and {kind} not in {INTEGER_KINDS} "
            f"then 'mistyped field message.usage.{field}: expected integer' end"
        )
        checks.append(
            f"case when {usage} and {kind} = 'BIGINT' and cast({_text_of(f'{field}_json')} as bigint) < 0 "
            f"then 'negative token count message.usage.{field}' end"
        )
    return ",\n".join(checks)
