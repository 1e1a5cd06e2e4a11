"""Load delivery folders of platform session events into the lake (one partition per delivery date).

Every physical line of every file ends up in exactly one place: the `platform_events` partition (typed
columns, no free text), the `quarantined_lines` partition (file, line number, reason and the line itself), or
the blank-line count.

Two paths, one contract. The fast path (typed_read.py) has DuckDB's `read_json` read the delivery with a typed
schema and checks the contract as one vectorised condition inside that scan (_fast_checked_sql); it is about
as fast as DuckDB reading the files. Every line it cannot vouch for -- blank, malformed, a repeated key, a value
whose JSON type a VARCHAR column hides, text beyond printable ASCII that breaks the identifier rule, a broken
rule -- goes with its text to the exact path (_checked_sql over lines.py's physical lines), which gives the
reason; so does a whole file that does not line up. The exact path alone was 10-30 times slower than a bare
scan; it stays the reference for what each line means.

The value rules are contract.py's: identifiers, token counts of 0 to 10^9, the 2000-2100 timestamp window,
capped quarantine text. Entries of a delivery folder that are not read (links, FIFOs, folders that cannot be
listed) are reported like unreadable files: a summary row and a quarantined "line" 0 with the reason.

A delivery is always reloaded whole from the folder's current files, so loading the same folder twice gives
the same partition. The deliveries of one refresh are read together (one scan, one partitioned write per
dataset), since each scan and write has a fixed cost that many small deliveries would pay over and over.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingest import changes, contract, lake
from orchestration.ingest.lines import WHOLE_FILE, insert_rows, parse_once_sql, read_lines, reported_name
from orchestration.ingest.typed_read import read_typed
from reports.analytics.vocabulary import TOKEN_FIELDS

log = logging.getLogger(__name__)

SOURCE = "platform"
SUPPORTED_SCHEMA_VERSION = 1
SESSION_END_STATUSES = ("completed", "failed", "cancelled")
CACHE_SPLIT_FIELDS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
# RFC 3339: date, 'T', time with optional fraction, and a mandatory 'Z' or numeric offset.
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"

# Required string fields: on every event, and per event type. Unknown event types need only the common ones.
COMMON_STRING_FIELDS = ("event_id", "event_type", "org_id", "session_id", "timestamp")
TYPE_STRING_FIELDS = {
    "session_started": ("user_id", "agent", "project_id"),
    "model_request": ("request_id", "model"),
    "session_ended": ("status",),
}
KNOWN_EVENT_TYPES = tuple(TYPE_STRING_FIELDS)
# Fields held to the identifier rule (contract.py) wherever they are present and not null.
IDENTIFIER_FIELDS = (
    "event_id",
    "event_type",
    "org_id",
    "session_id",
    "user_id",
    "agent",
    "project_id",
    "request_id",
    "model",
    "repository",
)


@dataclass(frozen=True)
class DeliveryLoad:
    delivery_date: str
    files: int
    lines_read: int
    blank_lines: int
    loaded_lines: int
    quarantined_lines: int
    ignored_event_lines: int
    # True when the folder was unchanged since its last load and nothing was read.
    skipped: bool = False


def delivery_dates(raw_dir: Path) -> list[str]:
    """Delivery folders present under <raw-dir>/platform, oldest first. A link named like one is listed too:
    it is not followed, and its load reports it skipped."""
    root = raw_dir / SOURCE
    if root.is_symlink():  # no delivery to report it in
        log.warning("%s is a symbolic link, not followed: no platform delivery is read", root)
    folders, links = contract.subfolders(root)
    return sorted(p.name for p in [*folders, *links] if _is_iso_date(p.name))


def delivery_entries(raw_dir: Path, delivery_date: str) -> contract.RawFiles:
    """The data files of a delivery folder, and the entries skipped with their reasons (links, FIFOs, folders
    that cannot be read; the folder itself when it is a link)."""
    return contract.find_raw_files(raw_dir / SOURCE / delivery_date)


def delivery_files(raw_dir: Path, delivery_date: str) -> list[Path]:
    return delivery_entries(raw_dir, delivery_date).files


def load_delivery(raw_dir: Path, lake_dir: Path, delivery_date: str, force: bool = False) -> DeliveryLoad:
    """Validate and load every line of one delivery folder; replaces the delivery's lake partitions."""
    return load_deliveries(raw_dir, lake_dir, [delivery_date], force)[0]


def load_deliveries(raw_dir: Path, lake_dir: Path, dates: list[str], force: bool = False) -> list[DeliveryLoad]:
    """Validate and load every line of some delivery folders; replaces their lake partitions.

    A delivery whose files are unchanged since its last load (same names, sizes and modification times) is
    not read again unless `force`: a refresh costs what arrived, not the whole history. The others are read
    together, in batches of about lake.LOAD_BATCH_BYTES: one scan and one write per dataset for many
    deliveries, since each read and write has a fixed cost that many small deliveries would pay over and over.
    """
    results: dict[str, DeliveryLoad] = {}
    pending: list[tuple[str, contract.RawFiles, list]] = []
    for delivery_date in dates:
        entries = delivery_entries(raw_dir, delivery_date)
        # A skipped entry is part of the fingerprint: one that appears, goes or changes reason reloads the delivery.
        fingerprint = [[str(p.relative_to(raw_dir)), p.stat().st_size, p.stat().st_mtime_ns] for p in entries.files]
        fingerprint += [[str(p.relative_to(raw_dir)), reason] for p, reason in entries.skipped.items()]
        state = None if force else lake.read_state(_state_file(lake_dir, delivery_date))
        if state is not None and state.get("fingerprint") == fingerprint:
            log.info("platform delivery %s unchanged since its last load", delivery_date)
            results[delivery_date] = dataclasses.replace(DeliveryLoad(**state["result"]), skipped=True)
            continue
        pending.append((delivery_date, entries, fingerprint))

    for batch in lake.file_batches(pending, lambda delivery: delivery[1].files):
        loaded = _load_files(raw_dir, lake_dir, {delivery_date: entries for delivery_date, entries, _ in batch})
        for delivery_date, _, fingerprint in batch:
            result = loaded[delivery_date]
            log.info("platform delivery %s: %s", delivery_date, result)
            changes.record_batch(lake_dir, SOURCE, delivery_date)
            lake.write_state(
                _state_file(lake_dir, delivery_date), {"fingerprint": fingerprint, "result": dataclasses.asdict(result)}
            )
            results[delivery_date] = result
    return [results[delivery_date] for delivery_date in dates]


def _state_file(lake_dir: Path, delivery_date: str) -> Path:
    return lake_dir / "_state" / SOURCE / f"{delivery_date}.json"


def _load_files(raw_dir: Path, lake_dir: Path, deliveries: dict[str, contract.RawFiles]) -> dict[str, DeliveryLoad]:
    """Load the files of several deliveries in one pass; {delivery date: what was loaded}. A skipped entry is
    reported like an unreadable file: one quarantined "line" 0 with the reason, and its content is never read."""
    results = {}
    for delivery_date, entries in deliveries.items():
        if not entries.files and not entries.skipped:
            lake.remove_partition(lake_dir, "platform_events", delivery_date=delivery_date)
            for dataset in ("quarantined_lines", "load_file_summary"):
                lake.remove_partition(lake_dir, dataset, source=SOURCE, batch=delivery_date)
            results[delivery_date] = DeliveryLoad(delivery_date, 0, 0, 0, 0, 0, 0)
    deliveries = {
        delivery_date: entries for delivery_date, entries in deliveries.items() if entries.files or entries.skipped
    }
    if not deliveries:
        return results
    all_files = [path for entries in deliveries.values() for path in entries.files]
    skipped = {
        reported_name(path, raw_dir): reason
        for entries in deliveries.values()
        for path, reason in entries.skipped.items()
    }
    event_partitions = [{"delivery_date": delivery_date} for delivery_date in deliveries]
    batch_partitions = [{"source": SOURCE, "batch": delivery_date} for delivery_date in deliveries]

    with tempfile.TemporaryDirectory(prefix="platform-load-") as scratch, duckdb.connect() as conn:
        fast = read_typed(
            conn, all_files, raw_dir, Path(scratch), TYPED_COLUMNS, _fast_checked_sql(), _full_identifier_check_sql()
        )
        # Lines the typed read cannot vouch for are checked one by one, from their text: every line of the
        # files it gave back, its special lines (blank, malformed) and the lines the checks above flagged.
        unreadable = read_lines(conn, fast.whole_files, raw_dir, Path(scratch))
        flagged = conn.execute(
            "select source_file, line_number from typed_rows where needs_exact_check order by all"
        ).fetchall()
        conn.execute("insert into lines select * from special_lines")
        insert_rows(conn, "lines", fast.line_texts(flagged))
        insert_rows(
            conn,
            "source_files",
            [(str(entry.path), entry.source_file) for entry in fast.files]
            + [(None, source_file) for source_file in skipped],
        )
        # Which delivery each file belongs to, as the partition index of the batched writes.
        conn.execute("create temp table file_partitions (source_file varchar, partition_index integer)")
        insert_rows(
            conn,
            "file_partitions",
            [
                (reported_name(path, raw_dir), index)
                for index, entries in enumerate(deliveries.values())
                for path in [*entries.files, *entries.skipped]
            ],
        )
        if conn.execute("select count(*) from lines").fetchall()[0][0]:
            conn.execute(f"create temp table exact_checked as {_checked_sql()}")
        else:  # the usual case; planning the line-by-line checks alone costs tens of milliseconds
            conn.execute(f"create temp table exact_checked ({_exact_checked_columns()})")
        not_read = {**unreadable, **skipped}
        if not_read:
            conn.executemany(
                "insert into exact_checked (source_file, line_number, line, is_blank, reason, event_type) "
                f"values (?, {WHOLE_FILE}, null, false, ?, null)",
                sorted(not_read.items()),
            )
        # Every line once: the typed rows vouched for, and the lines checked exactly (with their reasons).
        conn.execute(
            "create temp view checked as "
            "select source_file, line_number, false as is_blank, cast(null as varchar) as reason, event_type "
            "from typed_rows where not needs_exact_check "
            "union all select source_file, line_number, is_blank, reason, event_type from exact_checked"
        )
        event_columns = ", ".join(lake.DATASETS["platform_events"]["columns"])
        # No ORDER BY over the typed rows: they are in file and line order already (insertion order), and
        # sorting a delivery costs as much as writing it. The few exactly-checked lines come after them.
        lake.write_partitions(
            conn,
            f"select {event_columns}, partition_index from ("
            f"select {event_columns} from typed_rows where not needs_exact_check "
            f"union all select {event_columns} from ({_events_projection()})"
            ") join file_partitions using (source_file)",
            lake_dir,
            "platform_events",
            event_partitions,
        )
        lake.write_partitions(
            conn,
            "select source_file, line_number, reason, line, partition_index from exact_checked "
            "join file_partitions using (source_file) "
            "where reason is not null order by source_file, line_number",
            lake_dir,
            "quarantined_lines",
            batch_partitions,
        )
        conn.execute(f"create temp table file_summary as {_summary_sql()}")
        lake.write_partitions(
            conn,
            "select * from file_summary join file_partitions using (source_file)",
            lake_dir,
            "load_file_summary",
            batch_partitions,
        )
        totals = {
            row[0]: row[1:]
            for row in conn.execute(
                "select partition_index, count(*), sum(lines_read), sum(blank_lines), sum(loaded_lines), "
                "sum(quarantined_lines), sum(ignored_event_lines) "
                "from file_summary join file_partitions using (source_file) group by partition_index"
            ).fetchall()
        }

    for index, delivery_date in enumerate(deliveries):
        results[delivery_date] = DeliveryLoad(delivery_date, *(int(v or 0) for v in totals.get(index, (0,) * 6)))
    return results


# The exact path: every JSON path the contract reads, extracted in ONE parse of the line (`json_extract` with a
# list of paths); each check then looks at a small extracted value.
EXTRACTED_FIELDS = tuple(
    dict.fromkeys(
        (
            "schema_version",
            *COMMON_STRING_FIELDS,
            *(field for fields in TYPE_STRING_FIELDS.values() for field in fields),
            "repository",
            "usage",
            *(f"usage.{field}" for field in TOKEN_FIELDS),
            "usage.cache_creation",
            *(f"usage.cache_creation.{field}" for field in CACHE_SPLIT_FIELDS),
        )
    )
)


def _column(field: str) -> str:
    """The extracted JSON value of a field, minified (NULL when absent, `null` when null)."""
    return "json_" + field.replace(".", "__")


def _kind(field: str) -> str:
    """The field's JSON type (a column computed once per line, see _kind_sql)."""
    return "kind_" + field.replace(".", "__")


def _text(field: str) -> str:
    """The field's value as text, strings unquoted (`json_extract_string`)."""
    return "text_" + field.replace(".", "__")


def _kind_sql(field: str) -> str:
    """The JSON type of an extracted value, from its first character: the value is minified JSON, so this is
    exact and saves parsing every value a second time. `integer` is a whole number written without a fraction
    or exponent, of any size (the range checks say when it is too large); other numbers are `number`, NaN and
    Infinity included (DuckDB reads them, `nan` too)."""
    value = _column(field)
    return (
        f"case left({value}, 1) when '\"' then 'string' when '{{' then 'object' when '[' then 'array' "
        f"when 'n' then case when {value} = 'null' then 'null' else 'number' end "
        f"when 't' then 'boolean' when 'f' then 'boolean' "
        f"else case when regexp_full_match({value}, '-?[0-9]+') then 'integer' "
        f"when {value} is not null then 'number' end end"
    )


def _shown(text: str) -> str:
    """A value quoted in a reason, capped as quarantined text is (a reason must not carry a 50 MB value)."""
    return contract.capped_text_sql(text)


# The keys whose repetition makes a line ambiguous, per object the contract reads: the keys of its fields.
DUPLICATE_CHECKED_KEYS = {
    "": tuple(dict.fromkeys(field.split(".")[0] for field in EXTRACTED_FIELDS)),
    "usage.": (*TOKEN_FIELDS, "cache_creation"),
    "usage.cache_creation.": CACHE_SPLIT_FIELDS,
}
DUPLICATE_KEY_COLUMNS = ["keys_top", "keys_usage", "keys_split"]


def _repeated_keys_sql(keys: str) -> list[str]:
    """Per object of DUPLICATE_CHECKED_KEYS, its contract keys as listed in `keys` (json_keys of those objects,
    in that order), sorted: a repeated key is then next to itself."""
    lists = []
    for index, names in enumerate(DUPLICATE_CHECKED_KEYS.values(), start=1):
        listed = ", ".join(f"'{name}'" for name in names)
        lists.append(f"list_sort(list_filter({keys}[{index}], lambda k: list_contains([{listed}], k)))")
    return lists


def _duplicate_key_reason_sql(columns: list[str]) -> str:
    """The reason for a repeated contract key (columns as _repeated_keys_sql gives them), else null. JSON
    parsers disagree on which of two values counts (DuckDB takes the first, others the last), so such a line
    is never loaded."""
    reasons = [
        f"case when len({column}) > len(list_distinct({column})) then 'duplicate key {prefix}' || "
        f"list_filter({column}, lambda k, i: i > 1 and k = {column}[i - 1])[1] end"
        for prefix, column in zip(DUPLICATE_CHECKED_KEYS, columns)
    ]
    return f"coalesce({', '.join(reasons)})"


def _field_checks() -> list[str]:
    """SQL expressions, in priority order, each giving a reason string when the line breaks the contract."""
    checks = [
        "case when not is_json then 'invalid JSON' end",
        "case when not is_object then 'not a JSON object' end",
        f"case when is_object then {_duplicate_key_reason_sql(DUPLICATE_KEY_COLUMNS)} end",
    ]

    def required(field: str, expected: str, when: str = "true") -> str:
        kind = _kind(field)
        return (
            f"case when ({when}) and ({kind} is null or {kind} = 'null') then 'missing field {field}' "
            f"when ({when}) and {kind} <> '{expected}' "
            f"then 'mistyped field {field}: expected {expected}, got ' || {kind} end"
        )

    def token_count(field: str, when: str) -> str:
        """The range of a token count that is an integer (its type is checked before)."""
        text = _text(field)
        return (
            f"case when ({when}) and {_kind(field)} = 'integer' and starts_with({text}, '-') "
            f"then 'negative token count {field}' "
            f"when ({when}) and {_kind(field)} = 'integer' "
            f"and coalesce(try_cast({text} as bigint) > {contract.TOKEN_COUNT_MAX}, true) "
            f"then 'token count out of range {field}: ' || {_shown(text)} "
            f"|| ' (at most {contract.TOKEN_COUNT_MAX})' end"
        )

    checks.append(required("schema_version", "integer"))
    checks.append(
        f"case when coalesce(try_cast({_text('schema_version')} as bigint) <> {SUPPORTED_SCHEMA_VERSION}, true) "
        f"then 'unsupported schema_version ' || {_shown(_text('schema_version'))} end"
    )
    checks += [required(field, "string") for field in COMMON_STRING_FIELDS]
    timestamp = _text("timestamp")
    checks.append(
        f"case when not regexp_matches({timestamp}, '{RFC3339_PATTERN}') "
        f"or try_cast({timestamp} as timestamptz) is null "
        f"then 'unparseable timestamp: ' || {_shown(timestamp)} end"
    )
    checks.append(
        f"case when not {contract.timestamp_in_window_sql(f'try_cast({timestamp} as timestamptz)')} "
        f"then {contract.timestamp_reason('timestamp', _shown(timestamp))} end"
    )
    event_type = _text("event_type")
    for type_name, fields in TYPE_STRING_FIELDS.items():
        checks += [required(field, "string", f"{event_type} = '{type_name}'") for field in fields]
    is_started = f"{event_type} = 'session_started'"
    checks.append(
        f"case when {is_started} and {_kind('repository')} not in ('string', 'null') "
        f"then 'mistyped field repository: expected string or null, got ' || {_kind('repository')} end"
    )
    checks += [contract.identifier_reason_sql(_text(field), field) for field in IDENTIFIER_FIELDS]
    is_request = f"{event_type} = 'model_request'"
    checks.append(required("usage", "object", is_request))
    for field in TOKEN_FIELDS:
        checks.append(required(f"usage.{field}", "integer", is_request))
        checks.append(token_count(f"usage.{field}", is_request))
    has_split = f"{is_request} and {_kind('usage.cache_creation')} is not null"
    checks.append(
        f"case when {has_split} and {_kind('usage.cache_creation')} not in ('object', 'null') "
        "then 'mistyped field usage.cache_creation: expected object' end"
    )
    for field in CACHE_SPLIT_FIELDS:
        path = f"usage.cache_creation.{field}"
        present = f"{has_split} and {_kind(path)} is not null and {_kind(path)} <> 'null'"
        checks.append(
            f"case when {present} and {_kind(path)} <> 'integer' then 'mistyped field {path}: expected integer' end"
        )
        checks.append(token_count(path, present))
    statuses = ", ".join(f"'{s}'" for s in SESSION_END_STATUSES)
    checks.append(
        f"case when {event_type} = 'session_ended' and {_text('status')} not in ({statuses}) "
        f"then 'mistyped field status: expected one of {'/'.join(SESSION_END_STATUSES)}, got ' "
        f"|| {_shown(_text('status'))} end"
    )
    return checks


def _checked_sql() -> str:
    """Each line with its extracted fields and the first contract violation (null reason = good line)."""
    paths = ", ".join(f"'$.{field}'" for field in EXTRACTED_FIELDS)
    objects = ", ".join(f"'$.{prefix[:-1]}'" if prefix else "'$'" for prefix in DUPLICATE_CHECKED_KEYS)
    columns = ", ".join(
        f"extracted[{i}] as {_column(field)}, texts[{i}] as {_text(field)}"
        for i, field in enumerate(EXTRACTED_FIELDS, start=1)
    )
    kinds = ", ".join(f"{_kind_sql(field)} as {_kind(field)}" for field in EXTRACTED_FIELDS)
    repeated = ", ".join(
        f"{sql} as {column}" for sql, column in zip(_repeated_keys_sql("object_keys"), DUPLICATE_KEY_COLUMNS)
    )
    reasons = ",\n            ".join(_field_checks())
    return f"""
        with parsed as (
            select source_file, line_number, line, {parse_once_sql(paths)}
            from lines
        ),
        with_texts as (
            select *, case when extracted is not null then json_extract_string(line, [{paths}]) end as texts,
                   -- json_keys lists a repeated key as often as it appears, escapes undone
                   case when extracted is not null and is_object then json_keys(line, [{objects}]) end
                       as object_keys
            from parsed
        ),
        fields as (
            select source_file, line_number, line, is_blank,
                   extracted is not null as is_json, is_object,
                   {repeated},
                   {columns}
            from with_texts
        ),
        typed as (
            select *, {kinds} from fields
        )
        select * exclude (original_line),
               case when reason is not null then {contract.capped_text_sql("original_line")} end as line
        from (
            -- only what the partitions need is kept: the line itself (capped) only when it is quarantined
            select source_file, line_number, is_blank, line as original_line,
                   {", ".join(_text(field) for field in EXTRACTED_FIELDS)},
                   case when is_blank then null else coalesce(
                {reasons}
                   ) end as reason,
                   {_text("event_type")} as event_type
            from typed
        )
    """


# The typed read (typed_read.py): string fields as VARCHAR, schema_version as JSON text, usage as a STRUCT of
# JSON texts (DuckDB then refuses a repeated key inside it too, and extracts its fields faster than json_extract
# over JSON text). A VARCHAR column also takes a number or an object (as its JSON text), so a string value that
# reads like one is not trusted here but checked exactly from its line.
STRING_FIELDS = tuple(
    f for f in EXTRACTED_FIELDS if f not in ("schema_version", "usage") and not f.startswith("usage.")
)
USAGE_STRUCT = (
    f"STRUCT({', '.join(f'{field} JSON' for field in TOKEN_FIELDS)}, "
    f"cache_creation STRUCT({', '.join(f'{field} JSON' for field in CACHE_SPLIT_FIELDS)}))"
)
TYPED_COLUMNS = {"schema_version": "JSON", **{field: "VARCHAR" for field in STRING_FIELDS}, "usage": USAGE_STRUCT}


def _is_string(column: str) -> str:
    """True when a VARCHAR value is present and was surely a JSON string: not the JSON text of a number,
    boolean, object or array (whose first characters are a digit, '-', 't', 'f', '{' or '[', or the 'n'/'N',
    'i'/'I' of the NaN and Infinity DuckDB reads as numbers)."""
    starts = ", ".join(str(ord(c)) for c in "-[ftnNiI{")
    maybe_not = (
        f"case when ascii({column}) between 48 and 57 or ascii({column}) in ({starts}) "
        f"then regexp_full_match({column}, '(?i)-?[0-9][0-9.e+-]*|true|false|-?(nan|inf|infinity)|[[{{].*') "
        "else false end"
    )
    return f"({column} is not null and not ({maybe_not}))"


def _is_identifier(column: str) -> str:
    """The identifier rule on printable ASCII text: at most 128 characters, not empty and no space at either
    end (`>= '!'` says both of the first character: a space, and the empty string, sort before it). typed_read
    holds the rows of lines with any other character to _full_identifier_check_sql."""
    return (
        f"(strlen({column}) <= {contract.IDENTIFIER_MAX_LENGTH} and {column} >= '!' and not ends_with({column}, ' '))"
    )


def _is_count(value: str) -> str:
    """A JSON integer from 0 to contract.TOKEN_COUNT_MAX (the text of a JSON value). Integer texts of the same
    length (no leading zeros in JSON) compare as their numbers: cheaper than a cast."""
    limit = str(contract.TOKEN_COUNT_MAX)
    return (
        f"(regexp_full_match({value}, '[0-9]{{1,{len(limit)}}}') "
        f"and (strlen({value}) < {len(limit)} or {value} <= '{limit}'))"
    )


def _full_identifier_check_sql() -> str:
    """The whole identifier rule over the typed rows, for lines that hold more than printable ASCII."""
    return " and ".join(f"({field} is null or {contract.identifier_sql(field)})" for field in IDENTIFIER_FIELDS)


def _fast_checked_sql() -> str:
    """The input contract over the typed rows, as one vectorised condition that holds only when every exact
    check (_field_checks) would pass. Rows it does not vouch for are flagged for the exact line-by-line check,
    which gives their reason; so the condition may be stricter than the contract, never looser. (A repeated
    key never gets here: typed_read's strict read hands such a line to the exact path.)"""

    def identifier(field: str, required: bool) -> str:
        valid = f"{_is_string(field)} and {_is_identifier(field)}"
        return valid if required else f"({field} is null or ({valid}))"

    type_fields = [f for f in IDENTIFIER_FIELDS if f not in COMMON_STRING_FIELDS]
    split = "usage.cache_creation"
    split_fields = " and ".join(
        f"({split}.{field} is null or {split}.{field} = 'null' or {_is_count(f'{split}.{field}')})"
        for field in CACHE_SPLIT_FIELDS
    )
    statuses = ", ".join(f"'{s}'" for s in SESSION_END_STATUSES)
    by_type = {name: [identifier(f, f in fields) for f in type_fields] for name, fields in TYPE_STRING_FIELDS.items()}
    by_type["model_request"] += [
        "usage is not null",
        *(_is_count(f"usage.{field}") for field in TOKEN_FIELDS),
        f"({split} is null or ({split_fields}))",
    ]
    by_type["session_ended"].append(f"status in ({statuses})")
    other_types = " and ".join(identifier(f, False) for f in type_fields)
    by_type_sql = " ".join(f"when '{name}' then {' and '.join(checks)}" for name, checks in by_type.items())
    passes = " and ".join(
        [f"schema_version = '{SUPPORTED_SCHEMA_VERSION}'"]
        + [identifier(f, True) for f in COMMON_STRING_FIELDS if f != "timestamp"]
        + [
            f"regexp_matches(timestamp, '{RFC3339_PATTERN}')",
            "parsed_at is not null",
            contract.timestamp_in_window_sql("parsed_at"),
            f"case event_type {by_type_sql} else {other_types} end",
        ]
    )
    strings = ", ".join(
        (
            "event_id",
            "event_type",
            "org_id",
            "session_id",
            "user_id",
            "agent",
            "project_id",
            "repository",
            "request_id",
            "model",
            "status",
        )
    )
    # Counts are cast only where the checks passed: elsewhere the text may not be an integer at all.
    counts = ", ".join(
        [f"case when not needs_exact_check then cast(usage.{field} as bigint) end as {field}" for field in TOKEN_FIELDS]
        + [
            f"case when not needs_exact_check then cast(nullif({split}.{field}, 'null') as bigint) end "
            f"as cache_creation_{field.split('_')[1]}_input_tokens"
            for field in CACHE_SPLIT_FIELDS
        ]
    )
    # The platform_events columns themselves (typed once, here), or null where a line is flagged anyway.
    return f"""
        select file_index, needs_exact_check,
               cast(case when not needs_exact_check then schema_version end as integer) as schema_version,
               {strings},
               cast(parsed_at at time zone 'UTC' as timestamp) as event_at_utc,
               {counts}
        from (
            select *, not coalesce({passes}, false) as needs_exact_check
            from (select *, try_cast(timestamp as timestamptz) as parsed_at from typed_input)
        )
    """


def _exact_checked_columns() -> str:
    """The columns _checked_sql gives, with their types."""
    texts = [f"{_text(field)} varchar" for field in EXTRACTED_FIELDS]
    return ", ".join(
        [
            "source_file varchar",
            "line_number bigint",
            "is_blank boolean",
            *texts,
            "reason varchar",
            "event_type varchar",
            "line varchar",
        ]
    )


def _events_projection() -> str:
    """Typed columns of the good lines checked line by line. Free text of the line itself is not kept."""
    usage = ",\n            ".join(f"cast({_text(f'usage.{f}')} as bigint) as {f}" for f in TOKEN_FIELDS)
    split = ",\n            ".join(
        f"cast({_text(f'usage.cache_creation.{f}')} as bigint) as cache_creation_{f.split('_')[1]}_input_tokens"
        for f in CACHE_SPLIT_FIELDS
    )
    strings = ",\n            ".join(
        f"{_text(field)} as {field}"
        for field in (
            "event_id",
            "event_type",
            "org_id",
            "session_id",
            "user_id",
            "agent",
            "project_id",
            "repository",
            "request_id",
            "model",
        )
    )
    return f"""
        select source_file, line_number,
            cast({_text("schema_version")} as integer) as schema_version,
            {strings},
            cast(cast({_text("timestamp")} as timestamptz) at time zone 'UTC' as timestamp) as event_at_utc,
            {usage},
            {split},
            {_text("status")} as status
        from exact_checked
        where not is_blank and reason is null
        order by source_file, line_number
    """


def _summary_sql() -> str:
    known = ", ".join(f"'{t}'" for t in KNOWN_EVENT_TYPES)
    return f"""
        select f.source_file,
               count(line_number) as lines_read,
               count(*) filter (where is_blank) as blank_lines,
               count(*) filter (where not is_blank and reason is null) as loaded_lines,
               count(*) filter (where reason is not null) as quarantined_lines,
               count(*) filter (where not is_blank and reason is null and event_type not in ({known}))
                   as ignored_event_lines
        from source_files as f
        left join checked as c using (source_file)
        group by f.source_file
        order by f.source_file
    """


def _is_iso_date(name: str) -> bool:
    try:
        datetime.date.fromisoformat(name)
    except ValueError:
        return False
    return len(name) == 10
