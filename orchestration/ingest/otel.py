"""Load Claude Code OpenTelemetry log events written by the OpenTelemetry Collector's file exporter:
`<raw-dir>/otel/**/*.jsonl[.gz]`, one `{"resourceLogs": [...]}` object per line.

Each log record becomes one row with only analytics attributes (event name, time, session, user email,
request id, model, token counts, reported cost, duration). Prompts (`claude_code.user_prompt` with
OTEL_LOG_USER_PROMPTS), tool inputs and error texts are never kept. A collection is the first folder under
`otel/` (files directly in `otel/` form the collection `_root`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.ingest.collections import CollectionLoad, ParsedQueries, find_collections, load_collections
from orchestration.ingest.contract import (
    COST_USD_MAX,
    DURATION_MS_MAX,
    TOKEN_COUNT_MAX,
    identifier_reason_sql,
    timestamp_in_window_sql,
    timestamp_reason,
)
from orchestration.ingest.lines import duplicate_key_sql, object_keys_sql

SOURCE = "otel"
ROOT_COLLECTION = "_root"
# Attribute -> column; 64-bit integers arrive as strings or as intValue.
TOKEN_ATTRIBUTES = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_creation_tokens": "cache_creation_tokens",
}
INTEGER_ATTRIBUTES = {**TOKEN_ATTRIBUTES, "duration_ms": "duration_ms"}
# A request without a session could not be attributed to anyone: quarantined rather than dropped later.
REQUIRED_REQUEST_ATTRIBUTES = ("session.id", "user.email", "input_tokens", "output_tokens", "model")
# Identifiers: of every record, and of api_request records only (the columns other records leave null).
RECORD_IDENTIFIERS = ("session.id", "user.email", "organization.id")
REQUEST_IDENTIFIERS = ("request_id", "model")
# A log record's own keys must be unique (its attributes are checked by the attribute map).
RECORD_KEYS = {"$": ""}


def load_all(raw_dir: Path, lake_dir: Path, force: bool = False) -> list[CollectionLoad]:
    return load_collections(
        source=SOURCE,
        collections=find_collections(raw_dir / SOURCE, loose_files_collection=ROOT_COLLECTION),
        raw_dir=raw_dir,
        lake_dir=lake_dir,
        parse=_parse,
        force=force,
    )


def _attribute_map(list_expression: str) -> str:
    value = (
        "coalesce(a->>'$.value.stringValue', a->>'$.value.intValue', a->>'$.value.doubleValue', "
        "a->>'$.value.boolValue')"
    )
    # try(): a record repeating a key gives no map rather than failing the load (it is then quarantined).
    return (
        f"try(map_from_entries(list_transform(coalesce(json_extract({list_expression}, '$[*]'), []), "
        f"lambda a: struct_pack(k := a->>'$.key', v := {value}))))"
    )


def _attribute(key: str) -> str:
    return f"coalesce(attributes['{key}'], resource_attributes['{key}'])"


def _parse(conn: duckdb.DuckDBPyConnection) -> ParsedQueries:
    conn.execute(
        f"""
        create temp table parsed_lines as
        select source_file, line_number, trim(line) = '' as is_blank,
               case when trim(line) <> '' then try(json(line)) end as doc
        from lines;

        create temp table records as
        with resource_logs as (
            select source_file, line_number, unnest(json_extract(doc, '$.resourceLogs[*]')) as resource_log
            from parsed_lines
            where json_type(doc) = 'OBJECT'
        ),
        scope_logs as (
            select source_file, line_number, resource_log->'$.resource.attributes' as resource_attributes,
                   unnest(json_extract(resource_log, '$.scopeLogs[*]')) as scope_log
            from resource_logs
        ),
        numbered as (
            select source_file, line_number, resource_attributes,
                   unnest(json_extract(scope_log, '$.logRecords[*]')) as record
            from scope_logs
        ),
        attributed as (
            select source_file, line_number,
                   row_number() over (partition by source_file, line_number) as record_index,
                   record->>'$.body.stringValue' as body,
                   record->>'$.timeUnixNano' as time_unix_nano,
                   {_attribute_map("record->'$.attributes'")} as attributes,
                   {_attribute_map("resource_attributes")} as resource_attributes,
                   {object_keys_sql("record", RECORD_KEYS)} as record_keys
            from numbered
        )
        select * exclude (record_keys), {duplicate_key_sql("record_keys", RECORD_KEYS)} as duplicate_key,
               regexp_replace(coalesce(body, 'claude_code.' || attributes['event.name']), '^claude_code\\.', '')
                   as event_name,
               coalesce(
                   try_cast(attributes['event.timestamp'] as timestamptz),
                   make_timestamptz(try_cast(time_unix_nano as bigint) // 1000)
               ) as event_at,
               -- the text the time was read from, for a reason
               case when try_cast(attributes['event.timestamp'] as timestamptz) is not null
                    then attributes['event.timestamp'] else time_unix_nano end as timestamp_text
        from attributed
        """
    )

    integers = ",\n".join(
        f"try_cast({_attribute(key)} as bigint) as {column}" for key, column in INTEGER_ATTRIBUTES.items()
    )
    conn.execute(
        f"""
        create temp table checked_records as
        select * exclude (duplicate_key, timestamp_text), coalesce({_reasons()}) as reason
        from records
        """
    )
    events = f"""
        select source_file, line_number, record_index, event_name,
               cast(event_at at time zone 'UTC' as timestamp) as event_at_utc,
               {_attribute("session.id")} as session_id,
               lower({_attribute("user.email")}) as user_email,
               {_attribute("organization.id")} as organization_id,
               case when event_name = 'api_request' then {_attribute("request_id")} end as request_id,
               case when event_name = 'api_request' then {_attribute("model")} end as model,
               {integers},
               try_cast({_attribute("cost_usd")} as double) as cost_usd
        from checked_records
        where reason is null
    """
    quarantine = """
        select source_file, line_number, 'invalid JSON (line content not kept)' as reason, cast(null as varchar) as line
        from parsed_lines where not is_blank and doc is null
        union all
        select source_file, line_number, 'not an OTLP logs object (line content not kept)', null
        from parsed_lines
        where doc is not null
          and (json_type(doc) <> 'OBJECT' or json_type(doc, '$.resourceLogs') is distinct from 'ARRAY')
        union all
        select source_file, line_number, 'log record ' || record_index || ': ' || reason, null
        from checked_records where reason is not null
    """
    # A line is quarantined when it is not an OTLP logs object or any of its records broke the contract
    # (the records that did not are still loaded).
    summary = """
        with bad_lines as (
            select distinct source_file, line_number from checked_records where reason is not null
        ),
        classified as (
            select p.source_file, p.line_number, p.is_blank,
                   not p.is_blank and (
                       p.doc is null or json_type(p.doc) <> 'OBJECT'
                       or json_type(p.doc, '$.resourceLogs') is distinct from 'ARRAY'
                       or b.line_number is not null
                   ) as is_quarantined
            from parsed_lines as p
            left join bad_lines as b using (source_file, line_number)
        )
        select f.source_file,
               count(c.line_number) as lines_read,
               count(*) filter (where c.is_blank) as blank_lines,
               count(*) filter (where not c.is_blank and not c.is_quarantined) as loaded_lines,
               count(*) filter (where c.is_quarantined) as quarantined_lines,
               0 as ignored_event_lines
        from source_files as f
        left join classified as c using (source_file)
        group by f.source_file
    """
    return ParsedQueries(datasets={"otel_events": events}, quarantine=quarantine, summary=summary)


def _reasons() -> str:
    """Contract checks of a log record, in priority order, each null when the record passes it."""
    api_request = "event_name = 'api_request'"
    checks = [
        "case when attributes is null then 'unusable attributes (repeated keys)' end",
        "case when resource_attributes is null then 'unusable resource attributes (repeated keys)' end",
        "case when duplicate_key is not null then 'duplicate key ' || duplicate_key end",
        "case when event_at is null then 'unparseable timestamp' end",
        f"case when not {timestamp_in_window_sql('event_at')} "
        f"then {timestamp_reason('event_at', 'left(timestamp_text, 64)')} end",
        "case when event_name is null then 'missing event name (body or attribute event.name)' end",
        identifier_reason_sql("event_name", "event name"),
        *(
            f"case when {api_request} and {_attribute(key)} is null then 'missing attribute {key}' end"
            for key in REQUIRED_REQUEST_ATTRIBUTES
        ),
        *(identifier_reason_sql(_attribute(key), key) for key in RECORD_IDENTIFIERS),
        *(
            f"case when {api_request} then {identifier_reason_sql(_attribute(key), key)} end"
            for key in REQUEST_IDENTIFIERS
        ),
    ]
    for key in INTEGER_ATTRIBUTES:
        value = f"try_cast({_attribute(key)} as hugeint)"
        checks.append(
            f"case when {_attribute(key)} is not null and {value} is null "
            f"then 'mistyped attribute {key}: expected integer' end"
        )
        if key in TOKEN_ATTRIBUTES:
            checks += [
                f"case when {value} < 0 then 'negative token count {key}' end",
                f"case when {value} > {TOKEN_COUNT_MAX} then 'token count out of range {key}: ' "
                f"|| cast({value} as varchar) || ' (expected 0 to {TOKEN_COUNT_MAX})' end",
            ]
        else:
            checks.append(
                f"case when not ({value} between 0 and {DURATION_MS_MAX}) then 'duration out of range "
                f"{key}: ' || cast({value} as varchar) || ' (expected 0 to {DURATION_MS_MAX})' end"
            )
    cost = f"try_cast({_attribute('cost_usd')} as double)"
    checks += [
        f"case when {_attribute('cost_usd')} is not null and {cost} is null "
        "then 'mistyped attribute cost_usd: expected a number' end",
        # isfinite says it: `between` alone refuses NaN only because DuckDB sorts NaN above every number
        f"case when not (isfinite({cost}) and {cost} between 0 and {COST_USD_MAX}) then 'cost out of range "
        f"cost_usd: ' || cast({cost} as varchar) || ' (expected a finite number from 0 to {COST_USD_MAX})' end",
    ]
    return ",\n".join(checks)
