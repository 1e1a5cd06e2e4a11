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

from orchestration.sources.collections import CollectionLoad, ParsedQueries, load_collection

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
    return [
        load_collection(
            source=SOURCE,
            collection=name,
            files=collection_files(raw_dir, name),
            raw_dir=raw_dir,
            lake_dir=lake_dir,
            parse=_parse,
            force=force,
        )
        for name in collections(raw_dir)
    ]


def _parse(conn: duckdb.DuckDBPyConnection) -> ParsedQueries:
    conn.execute(
        f"""
        create temp table parsed as
        with docs as (
            select source_file, line_number, trim(line) = '' as is_blank,
                   case when trim(line) <> '' then try(json(line)) end as doc
            from lines
        )
        select source_file, line_number, is_blank, doc,
               doc->>'$.type' = 'assistant' and json_type(doc, '$.message.usage') = 'OBJECT' as is_usage_line,
               try_cast(doc->>'$.timestamp' as timestamptz) as event_at,
               case when is_blank then null else coalesce({_reasons()}) end as reason
        from docs
        """
    )
    split = {
        f"cache_creation_{window}_input_tokens": f"$.message.usage.cache_creation.ephemeral_{window}_input_tokens"
        for window in ("5m", "1h")
    }
    optional_tokens = ",\n".join(
        f"coalesce(cast(doc->>'$.message.usage.{field}' as bigint), 0) as {field}" for field in TOKEN_FIELDS
    )
    split_columns = ",\n".join(f"cast(doc->>'{path}' as bigint) as {column}" for column, path in split.items())
    requests = f"""
        select source_file, line_number,
               doc->>'$.sessionId' as session_id,
               cast(event_at at time zone 'UTC' as timestamp) as event_at_utc,
               coalesce(cast(doc->>'$.isSidechain' as boolean), false) as is_sidechain,
               doc->>'$.agentId' as agent_id,
               doc->>'$.message.id' as message_id,
               doc->>'$.requestId' as request_id,
               doc->>'$.message.model' as model,
               {optional_tokens},
               {split_columns},
               coalesce(cast(doc->>'$.isApiErrorMessage' as boolean), false) as is_api_error,
               doc->>'$.version' as client_version
        from parsed
        where is_usage_line and reason is null
    """
    spans = """
        select source_file, doc->>'$.sessionId' as session_id,
               cast(min(event_at) at time zone 'UTC' as timestamp) as first_at_utc,
               cast(max(event_at) at time zone 'UTC' as timestamp) as last_at_utc,
               count(*) as timestamped_lines,
               arg_min(doc->>'$.cwd', line_number) filter (where doc->>'$.cwd' is not null) as cwd,
               arg_min(doc->>'$.gitBranch', line_number) filter (where doc->>'$.gitBranch' is not null) as git_branch
        from parsed
        where reason is null and event_at is not null and doc->>'$.sessionId' is not null
        group by source_file, doc->>'$.sessionId'
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
    """Contract checks, in priority order. Only lines that carry usage must be complete; other line types
    (user, system, summary without a timestamp, snapshots) only need to be JSON objects."""
    usage = "doc->>'$.type' = 'assistant' and json_type(doc, '$.message.usage') = 'OBJECT'"
    checks = [
        "case when doc is null then 'invalid JSON (line content not kept)' end",
        "case when json_type(doc) <> 'OBJECT' then 'not a JSON object (line content not kept)' end",
        f"case when {usage} and try_cast(doc->>'$.timestamp' as timestamptz) is null "
        "then 'unparseable timestamp on a usage line' end",
        f"case when {usage} and json_type(doc, '$.sessionId') is distinct from 'VARCHAR' "
        "then 'missing field sessionId on a usage line' end",
    ]
    for field in TOKEN_FIELDS:
        kind = f"json_type(doc, '$.message.usage.{field}')"
        if field in REQUIRED_TOKEN_FIELDS:
            checks.append(f"case when {usage} and {kind} is null then 'missing field message.usage.{field}' end")
        checks.append(
            f"case when {usage} and {kind} is not null and {kind} not in {INTEGER_KINDS} "
            f"then 'mistyped field message.usage.{field}: expected integer' end"
        )
        checks.append(
            f"case when {usage} and {kind} = 'BIGINT' and cast(doc->>'$.message.usage.{field}' as bigint) < 0 "
            f"then 'negative token count message.usage.{field}' end"
        )
    return ",\n".join(checks)
