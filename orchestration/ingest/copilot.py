"""GitHub Copilot CLI: its OpenTelemetry file export, `~/.copilot/otel/**/*.jsonl`.

Copilot CLI writes it when started with `COPILOT_OTEL_ENABLED=true COPILOT_OTEL_EXPORTER_TYPE=file` (and
`COPILOT_OTEL_FILE_EXPORTER_PATH=~/.copilot/otel/<name>.jsonl`). Each line is one record as the OpenTelemetry
JS SDK serialises it: a span `{"type": "span", "traceId", "spanId", "parentSpanId", "name", "kind",
"startTime": [s, ns], "endTime": [s, ns], "attributes": {...}, "resource": {"attributes": {"service.version"}},
...}`, a metric `{"type": "metric", "dataPoints": [...]}` (no top-level attributes), or a log record. The
attributes are a flat map in the OTel GenAI conventions.

Read as ccusage 20.0.24 reads it (`ccusage copilot daily`; the arbiter), per file:
- The records are the JSON objects of the lines that contain `"attributes"` with an `attributes` object.
- A request is, by preference: a `chat` span (type span and `gen_ai.operation.name` chat, or a name
  `chat <model>`); else, for a trace or response with no chat span, a log record
  `gen_ai.client.inference.operation.details`; else a `copilot_chat.agent.turn` log; else the `invoke_agent`
  span's summary. So the agent span's totals are never added to its own chat spans; tool spans carry no tokens.
- Tokens: `gen_ai.usage.input_tokens` includes the cached input: uncached input = input - cache_read (not below
  0); cache writes `gen_ai.usage.cache_write.input_tokens` or `...cache_creation.input_tokens`; output as
  reported; reasoning (`gen_ai.usage.reasoning.output_tokens` or `...reasoning_tokens`) informational; with no
  parts at all, `gen_ai.usage.total_tokens` is output. A count may be a JSON integer or a string of digits
  (64-bit integers); a record with nothing is not a request.
- The model: `gen_ai.response.model`, else `gen_ai.request.model`, else the first model named by a record of the
  same trace (the agent span), else unknown. The session: `gen_ai.conversation.id` (or the other session
  attributes ccusage reads), else the trace's, else the trace id.
- The time: endTime, startTime, hrTime, ... as ccusage tries them, to the millisecond.

Differences from ccusage (all on records ccusage counts oddly): a span exported twice (same traceId and spanId,
in one file or two) is one request here (request_key `<traceId>:<spanId>`), two for ccusage; a request with no
timestamp is quarantined (ccusage dates it by the file's modification time); a token count that is not a
non-negative integer (a float, a negative, true) quarantines its record (ccusage reads it as 0). Content
(prompts and responses when content capture is on, tool arguments and results) is never read into a record and
never kept by the collector's copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from pathlib import Path, PurePosixPath

import duckdb

from orchestration.ingest.agent_logs import (
    AgentLogFormat,
    CcusageParity,
    Lines,
    ParsedFile,
    Request,
    Session,
    repository_from_remote,
)
from orchestration.ingest.contract import (
    TIMESTAMP_WINDOW_END,
    TIMESTAMP_WINDOW_START,
    TIMESTAMP_WINDOW_TEXT,
    identifier_problem,
)

MARKER = '"attributes"'

CHAT, INFERENCE_LOG, AGENT_TURN_LOG, AGENT_SPAN = "chat", "inference log", "agent turn log", "agent span"

INPUT = "gen_ai.usage.input_tokens"
OUTPUT = "gen_ai.usage.output_tokens"
CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE = ("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens")
REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
TOTAL = ("gen_ai.usage.total_tokens", "gen_ai.usage.total.token_count")
TOKEN_ATTRIBUTES = (INPUT, OUTPUT, CACHE_READ, *CACHE_WRITE, *REASONING, *TOTAL)
MODEL_ATTRIBUTES = ("gen_ai.response.model", "gen_ai.request.model")
# ccusage's order and priorities; of equal priorities the last one present wins (Rust's max_by_key).
SESSION_ATTRIBUTES = (
    ("gen_ai.conversation.id", 3),
    ("copilot_chat.session_id", 3),
    ("copilot_chat.chat_session_id", 3),
    ("session.id", 3),
    ("github.copilot.interaction_id", 2),
    ("gen_ai.response.id", 1),
)
RESPONSE_ID = "gen_ai.response.id"
OPERATION = "gen_ai.operation.name"
EVENT_NAME = "event.name"
TURN_INDEX = ("turn.index", "copilot_chat.turn.index")
GIT_BRANCH = "github.copilot.git.branch"
GIT_REPOSITORY = "github.copilot.git.repository"
INFERENCE_EVENT = "gen_ai.client.inference.operation.details"
AGENT_TURN_EVENT = "copilot_chat.agent.turn"
INFERENCE_BODY = "GenAI inference:"
# Timestamps as ccusage tries them: [seconds, nanoseconds] pairs, then scalars of any unit, then nanoseconds.
TIME_PAIRS = ("endTime", "startTime", "hrTime", "_hrTime", "time")
TIME_SCALARS = ("timestamp", "observedTimestamp")
TIME_NANOS = "timeUnixNano"
SPAN_SHAPE = ("startTime", "endTime", "duration", "kind")
NO_TIMESTAMP = "no timestamp (endTime, startTime, hrTime, time, timestamp, observedTimestamp or timeUnixNano)"
# The attributes the parser reads: the collector's copy keeps these and nothing else.
KEPT_ATTRIBUTES = frozenset(
    (
        *TOKEN_ATTRIBUTES,
        *MODEL_ATTRIBUTES,
        *(name for name, _ in SESSION_ATTRIBUTES),
        OPERATION,
        EVENT_NAME,
        *TURN_INDEX,
        GIT_BRANCH,
        GIT_REPOSITORY,
    )
)
U64_MAX = 2**64 - 1
_EPOCH = dt.datetime(1970, 1, 1)
_WINDOW_MS = tuple(int(t.timestamp() * 1000) for t in (TIMESTAMP_WINDOW_START, TIMESTAMP_WINDOW_END))
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_.]{1,64}")


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) < len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _DuplicateKey(duplicate if _SHOWN_KEY.fullmatch(duplicate) else "<other>")
    return record


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _loads(text: str):
    return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)


# -- values as ccusage reads them ------------------------------------------------------------------------------


def _text(value) -> str | None:
    """A string, trimmed, if not empty (ccusage's string_value)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


class _BadCount(ValueError):
    pass


def _count(value) -> int | None:
    """A non-negative integer: a JSON integer or a string of digits (64-bit integers are written as strings).
    None when absent; _BadCount when present but not a count."""
    if value is None:
        return None
    if type(value) is int:
        if 0 <= value <= U64_MAX:
            return value
        raise _BadCount
    digits = value.strip() if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= 20 and int(digits) <= U64_MAX:
        return int(digits)
    raise _BadCount


def _loose_count(value) -> int | None:
    """A count where ccusage reads anything else as absent (timestamps, turn indexes)."""
    try:
        return _count(value)
    except _BadCount:
        return None


def _millis_of_pair(value) -> int | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    seconds, nanos = _loose_count(value[0]), _loose_count(value[1])
    if seconds is None or nanos is None:
        return None
    return seconds * 1000 + nanos // 1_000_000


def _millis_of_scalar(value) -> int | None:
    raw = _loose_count(value)
    if raw is None:
        return None
    if raw >= 10**17:
        return raw // 1_000_000
    if raw >= 10**14:
        return raw // 1_000
    if raw >= 10**11:
        return raw
    return raw * 1000


def _millis(record: dict) -> int | None:
    for name in TIME_PAIRS:
        millis = _millis_of_pair(record.get(name))
        if millis is not None:
            return millis
    for name in TIME_SCALARS:
        millis = _millis_of_scalar(record.get(name))
        if millis is not None:
            return millis
    nanos = _loose_count(record.get(TIME_NANOS))
    return nanos // 1_000_000 if nanos else None


def _ids(record: dict) -> tuple[str | None, str | None]:
    context = record.get("spanContext") if isinstance(record.get("spanContext"), dict) else {}
    trace = _text(record.get("traceId")) or _text(context.get("traceId"))
    span = _text(record.get("spanId")) or _text(context.get("spanId"))
    return trace, span


def _is_span(record: dict) -> bool:
    kind = record.get("type")
    if isinstance(kind, str):
        return kind == "span"
    trace, span = _text(record.get("traceId")), _text(record.get("spanId"))
    return _text(record.get("name")) is not None and (
        trace is not None or span is not None or any(record.get(name) is not None for name in SPAN_SHAPE)
    )


def _body(record: dict) -> str | None:
    return _text(record.get("body")) or _text(record.get("_body"))


def _kind(record: dict, attributes: dict) -> str | None:
    operation, name, event, body = (
        _text(attributes.get(OPERATION)),
        _text(record.get("name")),
        _text(attributes.get(EVENT_NAME)),
        _body(record),
    )
    if _is_span(record):
        if operation == "chat" or (name or "").startswith("chat "):
            return CHAT
        if operation == "invoke_agent" or (name or "").startswith("invoke_agent "):
            return AGENT_SPAN
        return None
    if event == INFERENCE_EVENT or (body or "").startswith(INFERENCE_BODY):
        return INFERENCE_LOG
    if event == AGENT_TURN_EVENT or (body or "").startswith(AGENT_TURN_EVENT):
        return AGENT_TURN_LOG
    return None


def _model(attributes: dict) -> str | None:
    return next((model for model in map(_text, map(attributes.get, MODEL_ATTRIBUTES)) if model), None)


def _session(attributes: dict) -> tuple[str, int] | None:
    best = None
    for name, priority in SESSION_ATTRIBUTES:
        value = _text(attributes.get(name))
        if value and (best is None or priority >= best[1]):
            best = (value, priority)
    return best


def _first_positive(attributes: dict, names: tuple[str, ...]) -> int:
    return next((value for value in (_count(attributes.get(name)) or 0 for name in names) if value > 0), 0)


def _tokens(attributes: dict) -> tuple[int, int, int, int, int]:
    """(uncached input, output, cache read, cache write, reasoning), as ccusage counts them."""
    given = _count(attributes.get(INPUT)) or 0
    output = _count(attributes.get(OUTPUT)) or 0
    cache_read = _count(attributes.get(CACHE_READ)) or 0
    cache_write = _first_positive(attributes, CACHE_WRITE)
    reasoning = _first_positive(attributes, REASONING)
    total = _first_positive(attributes, TOTAL)
    uncached = given - min(given, cache_read)
    missing = total - (uncached + output + cache_write + cache_read + reasoning)
    if missing > 0:
        if output == 0:
            output = missing
        else:
            reasoning += missing
    return uncached, output, cache_read, cache_write, reasoning


def _identifier_or_none(value) -> str | None:
    return value if isinstance(value, str) and not identifier_problem(value) else None


def _client_version(record: dict) -> str | None:
    resource = record.get("resource")
    attributes = resource.get("attributes") if isinstance(resource, dict) else None
    return _identifier_or_none(attributes.get("service.version")) if isinstance(attributes, dict) else None


def _line_key(source_file: str, line_number: int) -> str:
    return "line:" + hashlib.sha256(f"{source_file}\n{line_number}".encode()).hexdigest()[:32]


# -- parsing -----------------------------------------------------------------------------------------------------


def parse_file(source_file: str, lines: Lines) -> ParsedFile:
    parsed = ParsedFile()
    records: list[tuple[int, dict, dict]] = []  # (line, record, its attributes)
    for line_number, text in lines:
        if text is None:
            continue  # valid JSON without "attributes": a metric, or a record ccusage does not read either
        try:
            record = _loads(text)
        except _DuplicateKey as duplicate:
            parsed.quarantined.append((line_number, f"duplicate key {duplicate}"))
            continue
        except (ValueError, RecursionError):
            parsed.quarantined.append((line_number, "invalid JSON"))
            continue
        if not isinstance(record, dict):
            parsed.quarantined.append((line_number, "not a JSON object"))
            continue
        attributes = record.get("attributes")
        if not isinstance(attributes, dict):
            if MARKER in text and _is_span(record) and (_text(record.get("name")) or "").startswith("chat "):
                parsed.quarantined.append((line_number, "a chat span whose attributes are not an object"))
            continue  # metrics: their attributes are those of data points
        records.append((line_number, record, attributes))

    # What a trace says about its model and session, from any of its records (the agent span names the model).
    trace_model: dict[str, str] = {}
    trace_session: dict[str, tuple[str, int]] = {}
    for _, record, attributes in records:
        trace, _ = _ids(record)
        if trace is None:
            continue
        model = _model(attributes)
        if model and trace not in trace_model:
            trace_model[trace] = model
        session = _session(attributes)
        if session and session[1] > trace_session.get(trace, ("", 0))[1]:
            trace_session[trace] = session

    candidates = []
    for line_number, record, attributes in records:
        kind = _kind(record, attributes)
        if kind is None:
            continue
        try:
            uncached, output, cache_read, cache_write, reasoning = _tokens(attributes)
        except _BadCount:
            bad = next(name for name in TOKEN_ATTRIBUTES if _bad(attributes.get(name)))
            parsed.quarantined.append((line_number, f"{bad} is not a non-negative integer"))
            continue
        if uncached + output + cache_read + cache_write + reasoning == 0:
            continue
        trace, span = _ids(record)
        session = _session(attributes)
        session_id = (
            (session[0] if session else None) or trace_session.get(trace, (None, 0))[0] or trace or "unknown-session"
        )
        millis = _millis(record)
        if millis is None:
            parsed.quarantined.append((line_number, NO_TIMESTAMP))
            continue
        if not _WINDOW_MS[0] <= millis < _WINDOW_MS[1]:
            parsed.quarantined.append((line_number, f"timestamp outside {TIMESTAMP_WINDOW_TEXT}"))
            continue
        if kind in (CHAT, AGENT_SPAN):
            key = f"{trace}:{span}" if trace and span else _line_key(source_file, line_number)
        elif kind == INFERENCE_LOG:
            key = f"log:{trace}:{span}" if trace and span else _line_key(source_file, line_number)
        else:
            turn = next(
                (index for index in map(_loose_count, map(attributes.get, TURN_INDEX)) if index is not None), None
            )
            key = f"agent-turn:{trace}:{turn}" if trace and turn is not None else _line_key(source_file, line_number)
        candidates.append(
            dict(
                kind=kind,
                trace=trace,
                response=_text(attributes.get(RESPONSE_ID)),
                line=line_number,
                request=Request(
                    line_number=line_number,
                    session_id=session_id,
                    request_key=key,
                    event_at_utc=_EPOCH + dt.timedelta(milliseconds=millis),
                    model=_model(attributes) or (trace_model.get(trace) if trace else None),
                    is_fallback_model=False,
                    input_tokens=uncached,
                    output_tokens=output,
                    cache_read_input_tokens=cache_read,
                    cache_creation_input_tokens=cache_write,
                    reasoning_output_tokens=min(reasoning, output),
                    client_version=_client_version(record),
                ),
                branch=_text(attributes.get(GIT_BRANCH)),
                repository=repository_from_remote(attributes.get(GIT_REPOSITORY)),
            )
        )

    # The preferred record of a trace (or response) wins: chat spans, then inference logs, then agent turns, then
    # the agent span's summary.
    def seen(kind: str, field: str) -> set[str]:
        return {candidate[field] for candidate in candidates if candidate["kind"] == kind and candidate[field]}

    order = (CHAT, INFERENCE_LOG, AGENT_TURN_LOG, AGENT_SPAN)
    better = {kind: [(seen(k, "trace"), seen(k, "response")) for k in order[: order.index(kind)]] for kind in order}
    kept = [
        candidate
        for candidate in candidates
        if not any(
            candidate["trace"] in traces or candidate["response"] in responses
            for traces, responses in better[candidate["kind"]]
        )
    ]
    parsed.requests = [candidate["request"] for candidate in kept]
    parsed.sessions = _sessions(kept, records)
    return parsed


def _bad(value) -> bool:
    try:
        _count(value)
    except _BadCount:
        return True
    return False


def _sessions(kept: list[dict], records: list[tuple[int, dict, dict]]) -> list[Session]:
    """A session per session id of the file's requests: its first and last request, and the git branch and
    repository named by any record of its traces."""
    git: dict[str, tuple[str | None, str | None]] = {}
    for _, record, attributes in records:
        trace, _ = _ids(record)
        branch, repository = _text(attributes.get(GIT_BRANCH)), repository_from_remote(attributes.get(GIT_REPOSITORY))
        if trace and (branch or repository):
            known = git.get(trace, (None, None))
            git[trace] = (known[0] or branch, known[1] or repository)
    sessions: dict[str, dict] = {}
    for candidate in kept:
        request = candidate["request"]
        trace_git = git.get(candidate["trace"], (None, None)) if candidate["trace"] else (None, None)
        facts = sessions.setdefault(
            request.session_id,
            dict(
                line=request.line_number,
                first=request.event_at_utc,
                last=request.event_at_utc,
                branch=None,
                repository=None,
                version=None,
            ),
        )
        facts["line"] = min(facts["line"], request.line_number)
        facts["first"] = min(facts["first"], request.event_at_utc)
        facts["last"] = max(facts["last"], request.event_at_utc)
        facts["branch"] = facts["branch"] or candidate["branch"] or trace_git[0]
        facts["repository"] = facts["repository"] or candidate["repository"] or trace_git[1]
        facts["version"] = facts["version"] or request.client_version
    return [
        Session(
            line_number=facts["line"],
            session_id=session_id,
            first_at_utc=facts["first"],
            last_at_utc=facts["last"],
            git_branch=facts["branch"],
            repository=facts["repository"],
            client_version=facts["version"],
        )
        for session_id, facts in sessions.items()
    ]


# -- the collector's content-free copy ---------------------------------------------------------------------------

# Lines that stand for what the parser quarantines, with no byte of the original.
INVALID_JSON_LINE = '{"removed": invalid JSON'
NOT_AN_OBJECT_LINE = '["attributes"]'
IGNORED_LINE = "{}"


def _stand_in_name(name) -> str | None:
    """A name that the parser classifies as it classifies `name` (chat, agent, other), without the name."""
    text = _text(name)
    if text is None:
        return None if not isinstance(name, str) else ""
    return (
        "chat span" if text.startswith("chat ") else "invoke_agent span" if text.startswith("invoke_agent ") else "span"
    )


def _stand_in_body(body):
    text = _text(body)
    if text is None:
        return None if not isinstance(body, str) else ""
    return (
        INFERENCE_BODY
        if text.startswith(INFERENCE_BODY)
        else AGENT_TURN_EVENT
        if text.startswith(AGENT_TURN_EVENT)
        else "body"
    )


def _scalar(value):
    """A value the parser reads only for its type or as a scalar: kept if a scalar, else an empty one of its kind."""
    if isinstance(value, _Pairs):
        return _Pairs()
    return [] if isinstance(value, list) else value


class _Number:
    """A JSON fraction or exponent as written (1e400 is not infinity in the copy)."""

    def __init__(self, text: str):
        self.text = text


def _stripped_record(pairs: list[tuple[str, object]]) -> list[tuple[str, object]]:
    kept: list[tuple[str, object]] = []
    for key, value in pairs:
        if key in ("type", "traceId", "spanId", *TIME_SCALARS, TIME_NANOS):
            kept.append((key, _scalar(value)))
        elif key in TIME_PAIRS:
            pair = isinstance(value, list) and not isinstance(value, _Pairs)
            kept.append((key, [_scalar(part) for part in value[:2]] if pair else _scalar(value)))
        elif key in ("duration", "kind"):
            kept.append((key, _scalar(value)))
        elif key == "name":
            kept.append((key, _stand_in_name(value) if isinstance(value, str) else _scalar(value)))
        elif key in ("body", "_body"):
            kept.append((key, _stand_in_body(value) if isinstance(value, str) else _scalar(value)))
        elif key == "spanContext" and isinstance(value, _Pairs):
            kept.append((key, _Pairs([(k, _scalar(v)) for k, v in value if k in ("traceId", "spanId")])))
        elif key == "resource" and isinstance(value, _Pairs):
            inner = [(k, v) for k, v in value if k == "attributes"]
            kept.append(
                (
                    key,
                    _Pairs(
                        [
                            (
                                k,
                                _Pairs([(name, _scalar(version)) for name, version in v if name == "service.version"])
                                if isinstance(v, _Pairs)
                                else {},
                            )
                            for k, v in inner
                        ]
                    ),
                )
            )
        elif key == "attributes":
            if isinstance(value, _Pairs):
                kept.append(
                    (
                        key,
                        _Pairs(
                            [
                                (name, _git_remote(item) if name == GIT_REPOSITORY else _scalar(item))
                                for name, item in value
                                if name in KEPT_ATTRIBUTES
                            ]
                        ),
                    )
                )
            else:
                kept.append((key, _scalar(value)))
    return kept


def _git_remote(value):
    """The repository as a remote URL with no host or credentials: the parser finds the same owner/name."""
    repository = repository_from_remote(value)
    return f"https://git.invalid/{repository}" if repository else None


class _Pairs(list):
    """A JSON object as its list of (key, value) pairs: duplicate keys survive the copy (the parser quarantines
    them)."""


def _dump(value) -> str:
    if isinstance(value, _Pairs):
        return "{" + ",".join(f"{json.dumps(key)}:{_dump(item)}" for key, item in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(_dump, value)) + "]"
    if isinstance(value, _Number):
        return value.text
    return json.dumps(value)


def strip_line(text: str, blank: bool, valid_json: bool) -> str:
    """One line's content-free copy: the loader and the parser read it as they read the line. `blank` and
    `valid_json`: the loader's verdicts on the line (DuckDB's trim and json_valid, more lenient than Python's),
    which decide whether a line without the marker is blank, ignored or quarantined."""
    if blank:
        return ""
    if MARKER not in text:
        return IGNORED_LINE if valid_json else INVALID_JSON_LINE
    try:
        _loads(text)
    except _DuplicateKey as duplicate:
        key = str(duplicate) if str(duplicate) != "<other>" else "<"
        return f'{{"attributes":{{}},"{key}":0,"{key}":0}}'
    except (ValueError, RecursionError):
        return INVALID_JSON_LINE
    value = json.loads(text, object_pairs_hook=_Pairs, parse_float=_Number)
    if not isinstance(value, _Pairs):
        return NOT_AN_OBJECT_LINE
    return _dump(_Pairs(_stripped_record(value)))


_verdicts = threading.local()  # a DuckDB connection per thread: opening one per file costs more than the file


def loader_verdicts(lines: list[str]) -> list[tuple[bool, bool]]:
    """(blank, valid JSON) of each line, as the loader decides them (DuckDB's trim and json_valid)."""
    if not lines:
        return []
    if getattr(_verdicts, "conn", None) is None:
        _verdicts.conn = duckdb.connect()
    return _verdicts.conn.execute(
        "select trim(line) = '', coalesce(json_valid(line), false) "
        "from unnest(?) with ordinality as t(line, n) order by n",
        [lines],
    ).fetchall()


def strip_file(path: Path) -> bytes | None:
    """The file's content-free copy, line for line (the same line numbers), in the same format; None when no
    line of it is one the warehouse reads."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()  # after the last newline
    stripped = [strip_line(line, blank, valid) for line, (blank, valid) in zip(lines, loader_verdicts(lines))]
    if not any(line not in ("", IGNORED_LINE) for line in stripped):
        return None
    return "".join(line + "\n" for line in stripped).encode("utf-8")


# -- the format and ccusage ---------------------------------------------------------------------------------------


def wanted(path: PurePosixPath) -> bool:
    """What ccusage reads: `.jsonl` files anywhere under otel/ (not compressed ones)."""
    return len(path.parts) >= 2 and path.parts[0] == "otel" and path.name.endswith(".jsonl")


def _ccusage_rows(report: dict) -> dict[tuple[str, str], dict[str, int]]:
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for day in report.get("daily", []):
        for breakdown in day.get("modelBreakdowns", []):
            row = rows.setdefault((day["date"], breakdown["modelName"]), dict.fromkeys(CCUSAGE_KINDS, 0))
            for kind in CCUSAGE_KINDS:
                row[kind] += int(breakdown.get(kind, 0))
    return rows


CCUSAGE_KINDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadTokens": "cache_read_input_tokens",
    "cacheCreationTokens": "cache_creation_input_tokens",
}

FORMAT = AgentLogFormat(
    source="copilot",
    agent="copilot-cli",
    parse_file=parse_file,
    line_markers=(MARKER,),
    wanted=wanted,
    strip_file=strip_file,
    local_home="~/.copilot",
    home_env="COPILOT_HOME",
    suffixes=(".jsonl",),
)

CCUSAGE = CcusageParity(
    command="copilot",
    # ccusage reads one Copilot home (COPILOT_HOME, which replaces ~/.copilot) and the file named by
    # COPILOT_OTEL_FILE_EXPORTER_PATH (blanked here): run once per home.
    env=lambda homes: (
        {"COPILOT_HOME": str(homes[0]), "COPILOT_OTEL_FILE_EXPORTER_PATH": ""} if len(homes) == 1 else None
    ),
    rows=_ccusage_rows,
    kinds=CCUSAGE_KINDS,
)
