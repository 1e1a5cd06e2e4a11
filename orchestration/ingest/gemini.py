"""Gemini CLI chat recordings: `~/.gemini/tmp/<project folder>/chats/session-<time>-<id8>.json` (Gemini CLI
before 0.39, April 2026: one JSON document, rewritten as the session grows) and `.../session-*.jsonl` (since:
one record per line, appended), with subagents in `.../chats/<parent session id>/<session id>.jsonl`.

Layout under the raw dir: `<raw-dir>/gemini/<user email>/tmp/<project folder>/chats/...`, the collected home
being the user's `~/.gemini`.

What is read (and all the collector keeps, see `strip_file`):
- the session: `sessionId` (else the file's stem, as ccusage), `startTime`, `lastUpdated` (a `.jsonl` also has
  `{"$set": {"lastUpdated": ...}}` lines);
- messages of `type` "gemini" that carry `tokens{input, output, cached, thoughts, tool, total}` (the Gemini
  API's promptTokenCount, candidatesTokenCount, cachedContentTokenCount, thoughtsTokenCount,
  toolUsePromptTokenCount, totalTokenCount), their `id`, `timestamp` and `model`.

Counting is ccusage's (20.0.24, adapter/gemini/parser.rs):
- `input` includes `cached` when `total` equals input + output + thoughts + tool (what Gemini CLI writes): the
  uncached input is input - cached and the cache read is cached; otherwise `input` is taken as uncached.
  `tool` (the tool-use prompt) is added to the uncached input. There are no cache writes.
- `thoughts` are billed as output: output_tokens = output + thoughts, reasoning_output_tokens = thoughts (plus,
  as ccusage, any part of `total` the other counts do not explain; when `output` is 0 that remainder is the
  output). ccusage's `outputTokens` is output_tokens - reasoning_output_tokens.
- A message with no token at all is not a request. A message without `model` takes the last model named
  earlier in the same file (is_fallback_model), as ccusage does in a `.jsonl`.
- One request per (session, message id): a `.jsonl` appends a message again when it changes (tokens, tool
  calls): within a file the last copy counts, as ccusage; across files (a `.json` that Gemini CLI migrated to
  `.jsonl` on resume, a project folder renamed from its hash to its name) dbt keeps one row per request_key.
- `$rewindTo` lines drop messages from the conversation, not from the bill: rewound requests still count.
  `$set.messages` (a re-sync of the history) repeats known messages: not read.

The files have no working directory. The project folder is named by the sha256 of the project's path (no
project) or, since Gemini CLI 0.29 (February 2026), by a slug of the project folder's name, which becomes the
session's cwd (so its project, unless a path mapping matches).

Hostile input: an unreadable `.json` document is one quarantine row at the line where it breaks; a bad line of
a `.jsonl` or a bad message of a `.json` is a quarantine row at its line; the reasons name fields, never values.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass
from json.decoder import scanstring
from pathlib import Path, PurePosixPath

from orchestration.ingest.agent_logs import (
    AgentLogFormat,
    CcusageParity,
    Lines,
    ParsedFile,
    Request,
    Session,
    parse_utc,
)

SOURCE = "gemini"
AGENT = "gemini-cli"
DOCUMENT_SUFFIXES = (".json", ".json.gz")
LINES_SUFFIXES = (".jsonl", ".jsonl.gz")
TOKEN_FIELDS = ("input", "output", "cached", "thoughts", "tool", "total")
# The fields the parser reads: of a record (session metadata, message, `.jsonl` line), and of `$set`.
RECORD_FIELDS = (
    "sessionId",
    "session_id",
    "startTime",
    "lastUpdated",
    "id",
    "type",
    "timestamp",
    "created_at",
    "model",
    "tokens",
)
SET_FIELDS = ("lastUpdated",)
# What the collector sends for a `.jsonl` line that is not JSON (it stays not JSON: quarantined at its line).
STRIPPED_INVALID_LINE = "(not JSON: its text was removed by the collector)"
_HASH_FOLDER = re.compile(r"[0-9a-f]{64}")
_WHITESPACE = re.compile(r"[ \t\n\r]*")

INVALID_JSON = "invalid JSON"
INVALID_DOCUMENT = "invalid JSON document (the file's requests are not loaded)"
NOT_AN_OBJECT = "not a JSON object"
DOCUMENT_NOT_AN_OBJECT = "the JSON document is not an object"
MESSAGES_NOT_A_LIST = "messages is not a list"
TOKENS_NOT_AN_OBJECT = "tokens is not an object"
BAD_TIMESTAMP = "timestamp is missing or not an ISO 8601 time with an offset"
ID_NOT_A_STRING = "id is not a string"
MODEL_NOT_A_STRING = "model is not a string"


def _token_problem(name: str) -> str:
    return f"tokens.{name} is not a whole number of at least 0"


class _Object(dict):
    """A JSON object; `duplicates`: its keys that occur more than once (the last value is kept, as JavaScript,
    Python and serde_json keep it; DuckDB keeps the first)."""

    duplicates: frozenset = frozenset()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> _Object:
        record = cls(pairs)
        if len(record) < len(pairs):
            seen: set[str] = set()
            record.duplicates = frozenset(key for key, _ in pairs if key in seen or seen.add(key))
        return record


class _Fraction:
    """A JSON number with a fraction or an exponent: never a token count (and 1e400 is not infinity)."""


FRACTION = _Fraction()


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def loads(text: str):
    """JSON as the parser reads it: NaN and Infinity are not JSON, a fraction is not a count."""
    return json.loads(
        text, object_pairs_hook=_Object.from_pairs, parse_constant=_no_constant, parse_float=lambda _: FRACTION
    )


def duplicate_problem(record: dict) -> str | None:
    """The quarantine reason of a record in which a field that is read occurs twice (it would mean different
    things to different parsers): the first such field in RECORD_FIELDS order, then in tokens and $set."""
    duplicates = getattr(record, "duplicates", frozenset())
    for key in (*RECORD_FIELDS, "$set", "messages"):
        if key in duplicates:
            return f"duplicate key {key}"
    for key, fields in (("tokens", TOKEN_FIELDS), ("$set", SET_FIELDS)):
        inner = getattr(record.get(key), "duplicates", frozenset())
        for name in fields:
            if name in inner:
                return f"duplicate key {key}.{name}"
    return None


def _duplicate_copy(reason: str) -> dict:
    """A content-free record with the same duplicate (the copy keeps the quarantine reason)."""
    path = reason.removeprefix("duplicate key ")
    outer, _, inner = path.partition(".")
    return _Repeated(outer, 0) if not inner else {outer: _Repeated(inner, 0)}


class _Repeated(dict):
    """Dumped as {"key": value, "key": value}."""

    def __init__(self, key: str, value):
        super().__init__({key: value})


# -- which files -------------------------------------------------------------------------------------------------


def wanted(path: PurePosixPath) -> bool:
    """tmp/<project folder>/chats/**/<name>.json(l)(.gz): chats of main sessions and subagents, nothing else of
    ~/.gemini (settings, logs.json, checkpoints, plans)."""
    parts = path.parts
    return (
        len(parts) >= 4
        and parts[0] == "tmp"
        and parts[2] == "chats"
        and parts[-1].endswith((*DOCUMENT_SUFFIXES, *LINES_SUFFIXES))
    )


def _is_document(name: str) -> bool:
    return name.endswith(DOCUMENT_SUFFIXES)


def _stem(name: str) -> str:
    base = PurePosixPath(name).name
    for suffix in (*DOCUMENT_SUFFIXES, *LINES_SUFFIXES):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def project_folder_cwd(source_file: str) -> str | None:
    """The project folder of tmp/<folder>/chats/... when it is a name (newer Gemini CLI), not a sha256 hash."""
    parts = PurePosixPath(source_file).parts
    for index in range(len(parts) - 2):
        if parts[index] == "tmp" and parts[index + 2] == "chats":
            folder = parts[index + 1]
            return None if _HASH_FOLDER.fullmatch(folder) else folder
    return None


# -- parsing -----------------------------------------------------------------------------------------------------


def _text(record: dict, key: str) -> str | None:
    """A non-empty string field, trimmed (ccusage's non_empty_json_string)."""
    value = record.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


@dataclass
class _Usage:
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_output_tokens: int


def usage_of(tokens: dict) -> _Usage | str | None:
    """ccusage's figures of a `tokens` object; a reason when a count is malformed; None when it has no token."""
    counts = {}
    for name in TOKEN_FIELDS:
        value = tokens.get(name)
        if value is None:
            counts[name] = None if name == "total" else 0
        elif type(value) is not int or value < 0:
            return _token_problem(name)
        else:
            counts[name] = value
    given, output, cached = counts["input"], counts["output"], counts["cached"]
    thoughts, tool, total = counts["thoughts"], counts["tool"], counts["total"]
    inclusive = given + output + thoughts + tool
    if cached > 0 and total == inclusive and total != inclusive + cached:
        uncached = given - min(given, cached)  # Gemini's promptTokenCount includes the cached part
    else:
        uncached = given
    input_tokens = uncached + tool
    if total is None:
        total = input_tokens + output + cached + thoughts
    extra = thoughts
    missing = max(0, total - (input_tokens + output + cached + extra))
    if missing:
        if output == 0:
            output = missing
        else:
            extra += missing
    if input_tokens == 0 and output == 0 and cached == 0 and extra == 0:
        return None
    return _Usage(
        input_tokens=input_tokens,
        output_tokens=output + extra,
        cache_read_input_tokens=cached,
        reasoning_output_tokens=extra,
    )


class _Reader:
    """One file's parse: requests (one per key, the last copy), sessions, quarantine rows."""

    def __init__(self, source_file: str):
        self.source_file = source_file
        self.cwd = project_folder_cwd(source_file)
        self.parsed = ParsedFile()
        self.requests: dict[str, Request] = {}
        self.sessions: dict[str, list] = {}  # id -> [line, first, last]
        self.model: str | None = None  # the last model named so far in the file

    def quarantine(self, line: int, reason: str) -> None:
        self.parsed.quarantined.append((line, reason))

    def session_seen(self, session_id: str, line: int, *times) -> None:
        known = self.sessions.setdefault(session_id, [line, None, None])
        for value in times:
            if value is None:
                continue
            known[1] = value if known[1] is None else min(known[1], value)
            known[2] = value if known[2] is None else max(known[2], value)

    def note_model(self, record: dict) -> None:
        model = _text(record, "model")
        if model is not None:
            self.model = model

    def message(self, record: dict, line: int, session_id: str, fallback_key: str) -> None:
        """A record of type "gemini" (a message of a document, or a `.jsonl` line)."""
        tokens = record.get("tokens")
        if tokens is None:
            return  # recorded before its response's usage arrived, or never given one: not a request
        if not isinstance(tokens, dict):
            return self.quarantine(line, TOKENS_NOT_AN_OBJECT)
        usage = usage_of(tokens)
        if isinstance(usage, str):
            return self.quarantine(line, usage)
        if usage is None:
            return
        model_value = record.get("model")
        if model_value is not None and not isinstance(model_value, str):
            return self.quarantine(line, MODEL_NOT_A_STRING)
        model = _text(record, "model")
        is_fallback = model is None and self.model is not None
        model = model or self.model
        message_id = record.get("id")
        if message_id is not None and not isinstance(message_id, str):
            return self.quarantine(line, ID_NOT_A_STRING)
        at = parse_utc(record.get("timestamp")) or parse_utc(record.get("created_at"))
        if at is None:
            return self.quarantine(line, BAD_TIMESTAMP)
        key = f"{session_id}/{message_id.strip()}" if message_id and message_id.strip() else fallback_key
        self.requests[key] = Request(
            line_number=line,
            session_id=session_id,
            request_key=key,
            event_at_utc=at,
            model=model,
            is_fallback_model=is_fallback,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            cache_creation_input_tokens=0,
            reasoning_output_tokens=usage.reasoning_output_tokens,
        )
        self.session_seen(session_id, line)

    def result(self) -> ParsedFile:
        """A session's bounds are its startTime and lastUpdated (Gemini CLI updates it with every message);
        without them, its requests' times."""
        self.parsed.requests = list(self.requests.values())
        untimed = {session_id for session_id, (_, first, _) in self.sessions.items() if first is None}
        for request in self.parsed.requests:
            if request.session_id in untimed:
                self.session_seen(request.session_id, 0, request.event_at_utc)
        self.parsed.sessions = [
            Session(line_number=line, session_id=session_id, first_at_utc=first, last_at_utc=last, cwd=self.cwd)
            for session_id, (line, first, last) in self.sessions.items()
            if first is not None
        ]
        return self.parsed


def parse_file(source_file: str, lines: Lines) -> ParsedFile:
    """(reported file name, its non-blank lines) -> its requests, sessions and quarantine rows."""
    if _is_document(source_file):
        return _parse_document(source_file, lines)
    return _parse_lines(source_file, lines)


def _parse_lines(source_file: str, lines: Lines) -> ParsedFile:
    reader = _Reader(source_file)
    session_id, session_line = _stem(source_file), 0
    for line_number, text in lines:
        if text is None:
            continue  # valid JSON without a marker (the format has none: not passed)
        try:
            record = loads(text)
        except (ValueError, RecursionError):
            reader.quarantine(line_number, INVALID_JSON)
            continue
        if not isinstance(record, dict):
            reader.quarantine(line_number, NOT_AN_OBJECT)
            continue
        duplicate = duplicate_problem(record)
        if duplicate:
            reader.quarantine(line_number, duplicate)
            continue
        named = _text(record, "sessionId") or _text(record, "session_id")
        if named is not None:
            session_id, session_line = named, line_number
            reader.session_seen(
                session_id, session_line, parse_utc(record.get("startTime")), parse_utc(record.get("lastUpdated"))
            )
        updates = record.get("$set")
        if isinstance(updates, dict):
            reader.session_seen(session_id, session_line, parse_utc(updates.get("lastUpdated")))
        reader.note_model(record)
        if record.get("type") == "gemini":
            reader.message(record, line_number, session_id, f"{session_id}/line-{line_number}")
    return reader.result()


def _parse_document(source_file: str, lines: Lines) -> ParsedFile:
    reader = _Reader(source_file)
    numbered = [(number, text) for number, text in lines if text is not None]
    if not numbered:
        return reader.result()
    text = "\n".join(line for _, line in numbered)
    starts, offset = [], 0
    for _, line in numbered:
        starts.append(offset)
        offset += len(line) + 1

    def line_at(position: int) -> int:
        return numbered[max(0, bisect.bisect_right(starts, position) - 1)][0]

    try:
        document = loads(text)
    except json.JSONDecodeError as error:
        reader.quarantine(line_at(error.pos), INVALID_DOCUMENT)
        return reader.result()
    except (ValueError, RecursionError):
        reader.quarantine(numbered[0][0], INVALID_DOCUMENT)
        return reader.result()
    first_line = numbered[0][0]
    if not isinstance(document, dict):
        reader.quarantine(first_line, DOCUMENT_NOT_AN_OBJECT)
        return reader.result()
    duplicate = duplicate_problem(document)
    if duplicate:
        reader.quarantine(first_line, duplicate)
        return reader.result()
    session_id = _text(document, "sessionId") or _text(document, "session_id") or _stem(source_file)
    reader.session_seen(
        session_id, first_line, parse_utc(document.get("startTime")), parse_utc(document.get("lastUpdated"))
    )
    if "messages" not in document:
        if document.get("type") == "gemini":  # a single message as the whole document (ccusage reads it)
            reader.note_model(document)
            reader.message(document, first_line, session_id, f"{session_id}/#0")
        return reader.result()
    messages = document["messages"]
    if not isinstance(messages, list):
        reader.quarantine(first_line, MESSAGES_NOT_A_LIST)
        return reader.result()
    positions = message_offsets(text)
    for index, message in enumerate(messages):
        line = line_at(positions[index]) if index < len(positions) else first_line
        if not isinstance(message, dict):
            continue
        duplicate = duplicate_problem(message)
        if duplicate:
            reader.quarantine(line, duplicate)
            continue
        reader.note_model(message)
        if message.get("type") == "gemini":
            reader.message(message, line, session_id, f"{session_id}/#{index}")
    return reader.result()


def message_offsets(text: str) -> list[int]:
    """Where each element of the top-level object's (last) "messages" array starts in a valid JSON text."""
    decoder = json.JSONDecoder()

    def skip(position: int) -> int:
        return _WHITESPACE.match(text, position).end()

    position = skip(0)
    if text[position : position + 1] != "{":
        return []
    offsets: list[int] = []
    position = skip(position + 1)
    while position < len(text) and text[position] != "}":
        key, position = scanstring(text, position + 1)
        position = skip(skip(position) + 1)  # the colon
        if key == "messages" and text[position] == "[":
            offsets = []
            position = skip(position + 1)
            while text[position] != "]":
                offsets.append(position)
                _, position = decoder.raw_decode(text, position)
                position = skip(position)
                if text[position] == ",":
                    position = skip(position + 1)
            position += 1
        else:
            _, position = decoder.raw_decode(text, position)
        position = skip(position)
        if text[position] == ",":
            position = skip(position + 1)
    return offsets


# -- the collector's content-free copy -----------------------------------------------------------------------------


def _stripped_value(value):
    """A kept field's value without content: numbers, booleans and null as they are, objects and lists emptied
    (they are malformed there, and stay so)."""
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    if value is FRACTION:
        return 0.5  # any fraction: not a count, not text
    return value


TIME_FIELDS = ("startTime", "lastUpdated", "timestamp", "created_at")
# Kept as they are: what parse_file stores (session id, message id in the request key, model).
STORED_TEXT_FIELDS = ("sessionId", "session_id", "id", "model")


def _stripped_field(key: str, value):
    if key == "tokens":
        if isinstance(value, dict):
            return {name: _stripped_field("count", value[name]) for name in TOKEN_FIELDS if name in value}
        return "" if isinstance(value, str) else _stripped_value(value)
    if isinstance(value, str):
        if key in STORED_TEXT_FIELDS:
            return value
        if key in TIME_FIELDS:
            return value if parse_utc(value) is not None else ""
        return ""  # a token count or a type that is text: still text, without it
    return _stripped_value(value)


def strip_record(record: dict) -> dict:
    """Only the fields parse_file reads, in the same shape: the copy parses to the same figures, and holds no
    text but ids, times and model names."""
    duplicate = duplicate_problem(record)
    if duplicate:
        return _duplicate_copy(duplicate)
    kept = {}
    for key in RECORD_FIELDS:
        if key not in record:
            continue
        if key == "type":
            if record[key] == "gemini":
                kept[key] = "gemini"  # any other type is not read
            continue
        kept[key] = _stripped_field(key, record[key])
    updates = record.get("$set")
    if isinstance(updates, dict):
        kept_updates = {key: _stripped_field(key, updates[key]) for key in SET_FIELDS if key in updates}
        if kept_updates:
            kept["$set"] = kept_updates
    return kept


def _dumps(value) -> str:
    """Compact JSON; a _Repeated object with its key twice."""
    if isinstance(value, _Repeated):
        ((key, item),) = value.items()
        pair = f"{json.dumps(key, ensure_ascii=False)}:{_dumps(item)}"
        return "{" + pair + "," + pair + "}"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{_dumps(item)}" for key, item in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(map(_dumps, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def loader_lines(text: str) -> Lines:
    """A file's lines as the framework hands them to parse_file (orchestration/ingest/lines.py and
    agent_logs._file_lines): split at LF, a last empty piece dropped, the CR of CRLF and a BOM removed, blank lines
    (nothing but spaces, DuckDB's trim) left out, numbered from 1."""
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()
    numbered = []
    for number, piece in enumerate(pieces, start=1):
        piece = piece.removesuffix("\r")
        if number == 1:
            piece = piece.removeprefix("\ufeff")
        if not _blank(piece):
            numbered.append((number, piece))
    return numbered


def _blank(line: str) -> bool:
    return all(unicodedata.category(character) == "Zs" for character in line)


def strip_text(name: str, text: str) -> str:
    """The content-free copy of a file's text, line for line."""
    lines = loader_lines(text)
    if _is_document(name):
        return _strip_document(lines)
    out = {}
    for number, line in lines:
        try:
            record = loads(line)
        except (ValueError, RecursionError):
            out[number] = STRIPPED_INVALID_LINE
            continue
        out[number] = _dumps(strip_record(record)) if isinstance(record, dict) else "[]"
    last = lines[-1][0] if lines else 0
    return "".join(out.get(number, "") + "\n" for number in range(1, last + 1))


def _strip_document(lines: Lines) -> str:
    """The same document with only the read fields, each message on the line where it starts in the original
    (so quarantine rows and request lines name the same lines). A document that cannot be read becomes one
    that cannot be read at the same line (one caught half-written is sent again when it changes)."""
    if not lines:
        return ""
    text = "\n".join(line for _, line in lines)
    starts = list(itertools.accumulate((len(line) + 1 for _, line in lines[:-1]), initial=0))

    def line_of(position: int) -> int:
        return lines[bisect.bisect_right(starts, position) - 1][0]

    try:
        document = loads(text)
    except json.JSONDecodeError as error:
        return "\n" * (line_of(error.pos) - 1) + STRIPPED_INVALID_LINE + "\n"
    except (ValueError, RecursionError):
        return "\n" * (lines[0][0] - 1) + STRIPPED_INVALID_LINE + "\n"
    if not isinstance(document, dict):
        return "\n" * (lines[0][0] - 1) + "[]\n"
    if duplicate_problem(document):
        return "\n" * (lines[0][0] - 1) + _dumps(strip_record(document)) + "\n"
    head = strip_record(document)
    messages = document.get("messages")
    current = lines[0][0]
    out = ["\n" * (current - 1)]
    if not isinstance(messages, list):
        if "messages" in document:
            head["messages"] = _stripped_field("messages", messages)
        out.append(_dumps(head))
        return "".join(out) + "\n"
    out.append(_dumps(head)[:-1] + ("," if head else "") + '"messages":[')
    for index, (message, position) in enumerate(zip(messages, message_offsets(text))):
        line = line_of(position)
        if line > current:
            out.append("\n" * (line - current))
            current = line
        stripped = strip_record(message) if isinstance(message, dict) else None
        out.append(("," if index else "") + _dumps(stripped))
    out.append("]}\n")
    return "".join(out)


# What the collector sends for a file that is not UTF-8: the loader cannot read the original either (one
# "unreadable file" row for it), nor this copy.
NOT_UTF8_COPY = b"\xff(not UTF-8: its text was removed by the collector)\n"
NOT_GZIP_COPY = b"(not gzip: its bytes were removed by the collector)\n"


def strip_file(path: Path) -> bytes | None:
    """The collector's copy of a chat file: same format and lines, only the fields parse_file reads. What the
    loader cannot read (not gzip, not UTF-8, not a JSON document) stays so, without its content."""
    raw = path.read_bytes()
    compressed = path.name.endswith(".gz")
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return NOT_GZIP_COPY
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        data = NOT_UTF8_COPY
    else:
        data = strip_text(path.name, text).encode("utf-8")
    return gzip.compress(data, mtime=0) if compressed else data


# -- ccusage -------------------------------------------------------------------------------------------------------


def ccusage_env(homes: list[Path]) -> dict[str, str]:
    """GEMINI_DATA_DIR takes a comma-separated list of `tmp` folders (ccusage's adapter/gemini/paths.rs)."""
    return {"GEMINI_DATA_DIR": ",".join(str(home / "tmp") for home in homes)}


def ccusage_rows(report: dict) -> dict[tuple[str, str], dict[str, int]]:
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for day in report.get("daily", []):
        for model in day.get("modelBreakdowns", []):
            row = rows.setdefault((day.get("period", day.get("date")), model["modelName"]), {})
            for kind in CCUSAGE_KINDS:
                row[kind] = row.get(kind, 0) + int(model.get(kind, 0))
    return rows


CCUSAGE_KINDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens - reasoning_output_tokens",  # ccusage keeps thoughts apart
    "cacheReadTokens": "cache_read_input_tokens",
    "cacheCreationTokens": "cache_creation_input_tokens",
}

CCUSAGE = CcusageParity(command="gemini", env=ccusage_env, rows=ccusage_rows, kinds=CCUSAGE_KINDS)

FORMAT = AgentLogFormat(
    source=SOURCE,
    agent=AGENT,
    parse_file=parse_file,
    line_markers=None,
    wanted=wanted,
    strip_file=strip_file,
    local_home="~/.gemini",
    home_env=None,  # GEMINI_CLI_HOME moves the home folder that holds .gemini, not .gemini itself
    suffixes=(*DOCUMENT_SUFFIXES, *LINES_SUFFIXES),
)
