"""Codex CLI rollout logs: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl` (and `archived_sessions/`,
where Codex moves a session it archives), one JSON object per line: `{"timestamp", "type", "payload"}`.

Read (everything else is content and never parsed: the framework passes a line without one of LINE_MARKERS
without its text):
- `session_meta` (the file's first one names the session): `id`, `cwd`, `cli_version`, `git.branch`,
  `git.repository_url` (kept only as "owner/name", credentials and host dropped), and whether the session is a
  fork (`forked_from_id`) or a subagent (`source.subagent.thread_spawn.parent_thread_id`).
- `turn_context`: `model` (the model of the requests that follow).
- `event_msg` with `payload.type == "token_count"`: `info.last_token_usage` (this request) and
  `info.total_token_usage` (cumulative for the session) with `input_tokens` (cached input included),
  `cached_input_tokens`, `output_tokens` (reasoning included), `reasoning_output_tokens`, `total_tokens`.

Counting is ccusage 20.0.24's (`ccusage codex daily`), which the parity check holds us to:
- a token_count whose cumulative total equals the previous one is a re-emit (Codex repeats the event for rate
  limit and UI refreshes), not a request; otherwise the request is `last_token_usage`, or when that is absent
  the difference of the cumulative totals (field by field, never below zero); an all-zero request is none;
- cached input is at most the input; the warehouse's input is the uncached part;
- the model is the token_count's own (`payload`/`info` `model`, `model_name`, `metadata.model`), else the last
  `turn_context`'s, else gpt-5, as ccusage assumes for early logs (`is_fallback_model`); `codex-auto-review`
  is priced as the Codex model current on its date (ccusage's table), also flagged as assumed;
- a fork or subagent file (its first line a session_meta naming a parent) starts by replaying the parent's
  history as a burst of token_count events rewritten to the fork instant: when its first two usage events are
  at most a second apart, the leading events each within a second of the previous one are the parent's and
  are not counted again (they still move the cumulative baseline);
- copies of one request (an archived copy beside the active one, a copied rollout) are one request: the
  request key is ccusage's duplicate key, the time to the millisecond, the model and every token count.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from orchestration.ingest.agent_logs import (
    AgentLogFormat,
    CcusageParity,
    Lines,
    ParsedFile,
    Request,
    Session,
    parse_utc,
    repository_from_remote,
)

SOURCE = "codex"
AGENT = "codex-cli"
LINE_MARKERS = ('"token_count"', '"session_meta"', '"turn_context"')
FALLBACK_MODEL = "gpt-5"
AUTO_REVIEW_MODEL = "codex-auto-review"
# ccusage 20.0.24's table for `codex-auto-review`: the Codex model released last on or before the day.
AUTO_REVIEW_MODELS = (
    ("2026-07-30", "gpt-5.6-luna"),
    ("2026-03-05", "gpt-5.4"),
    ("2026-02-05", "gpt-5.3-codex"),
    ("2025-12-11", "gpt-5.2-codex"),
    ("2025-11-13", "gpt-5.1-codex"),
    ("2025-09-15", "gpt-5-codex"),
    ("2025-08-07", "gpt-5"),
)
# A fork's replayed history is written in one burst; its own first turn comes seconds later.
REPLAY_BURST_GAP = dt.timedelta(milliseconds=1000)
# The usage fields, each with the other names ccusage accepts for it (first present wins).
USAGE_FIELDS = {
    "input": ("input_tokens", "prompt_tokens", "input"),
    "cached": ("cached_input_tokens", "cache_read_input_tokens", "cached_tokens"),
    "cache_write": ("cache_write_input_tokens",),
    "output": ("output_tokens", "completion_tokens", "output"),
    "reasoning": ("reasoning_output_tokens", "reasoning_tokens"),
    "total": ("total_tokens",),
}
_UUID_AT_END = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_EPOCH_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time Python can hold


class LineProblem(Exception):
    """A line breaks the format: its quarantine reason (fixed text and field names, never a value)."""


# -- reading one line ----------------------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(name)


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise LineProblem("invalid JSON") from None
    if not isinstance(value, dict):
        raise LineProblem("not a JSON object")
    return value


def _kind(record: dict) -> str | None:
    """'session_meta', 'turn_context', 'token_count' or None (a line this parser does not read)."""
    kind = record.get("type")
    if kind in ("session_meta", "turn_context"):
        return kind
    if kind == "event_msg":
        payload = record.get("payload")
        if isinstance(payload, dict) and payload.get("type") == "token_count":
            return "token_count"
    return None


def _payload(record: dict, kind: str) -> dict:
    payload = record.get("payload")
    if not isinstance(payload, dict):
        raise LineProblem(f"{kind}: payload is not an object")
    return payload


def _text(container: dict, name: str, where: str) -> str | None:
    """An optional string field; None when absent or null."""
    value = container.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineProblem(f"{where}: {name} is not a string")
    return value


def _timestamp(value, where: str) -> dt.datetime:
    """A line's time: ISO 8601 text with Z or an offset, or epoch seconds (milliseconds above 10^10)."""
    if isinstance(value, str):
        parsed = parse_utc(value.strip())
        if parsed is not None:
            return parsed
    elif type(value) is int and 0 <= value < _MAX_EPOCH_MILLIS:
        millis = value if value > 10_000_000_000 else value * 1000
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis)
    raise LineProblem(f"{where}: timestamp is missing or not an ISO 8601 time")


def _model_of(container: dict, where: str) -> str | None:
    """`model`, else `model_name`, else `metadata.model`: the first non-blank string."""
    metadata = container.get("metadata")
    candidates = [
        container.get("model"),
        container.get("model_name"),
        metadata.get("model") if isinstance(metadata, dict) else None,
    ]
    for name, value in zip(("model", "model_name", "metadata.model"), candidates):
        if value is None:
            continue
        if not isinstance(value, str):
            raise LineProblem(f"{where}: {name} is not a string")
        if value.strip():
            return value.strip()
    return None


def _usage(info: dict, name: str) -> tuple[int, int, int, int, int, int] | None:
    """(input, cached, cache write, output, reasoning, total) of `info[name]` as written (cached not yet capped);
    None when absent or null. A missing count is 0; a missing or zero total is input + output."""
    usage = info.get(name)
    if usage is None:
        return None
    if not isinstance(usage, dict):
        raise LineProblem(f"token_count: info.{name} is not an object")
    counts = {}
    for field, names in USAGE_FIELDS.items():
        value = None
        for key in names:
            if usage.get(key) is not None:
                value = usage[key]
                if type(value) is not int or value < 0:
                    raise LineProblem(f"token_count: info.{name}.{key} is not a non-negative integer")
                break
        counts[field] = value
    inp, out = counts["input"] or 0, counts["output"] or 0
    total = counts["total"]
    if total is None or (total == 0 and inp + out > 0):
        total = inp + out
    return (inp, counts["cached"] or 0, counts["cache_write"] or 0, out, counts["reasoning"] or 0, total)


def _minus(current: tuple, previous: tuple | None) -> tuple:
    return tuple(max(0, a - (previous[i] if previous else 0)) for i, a in enumerate(current))


def _capped(usage: tuple) -> tuple:
    """Cached input at most the input; cache writes at most the rest."""
    inp, cached, write, out, reasoning, total = usage
    cached = min(cached, inp)
    return (inp, cached, min(write, inp - cached), out, reasoning, total)


def _auto_review_model(raw_timestamp, at: dt.datetime) -> str:
    day = (
        raw_timestamp[:10]
        if isinstance(raw_timestamp, str) and _DATE.fullmatch(raw_timestamp[:10])
        else at.date().isoformat()
    )
    return next((model for released, model in AUTO_REVIEW_MODELS if day >= released), FALLBACK_MODEL)


def request_key(at: dt.datetime, model: str, usage: tuple) -> str:
    """ccusage's duplicate key (time to the millisecond, model, every count), as a short stable hash."""
    millis = at.replace(microsecond=at.microsecond // 1000 * 1000).isoformat(timespec="milliseconds")
    text = json.dumps([millis, model, *usage], separators=(",", ":"))
    return "codex-" + hashlib.sha256(text.encode()).hexdigest()[:32]


# -- one file ------------------------------------------------------------------------------------------------


def _fallback_session_id(source_file: str) -> str:
    """A file without a session_meta: the uuid that ends the rollout file's name, else the name itself."""
    name = PurePosixPath(source_file.replace("\\", "/")).name
    for suffix in (".jsonl.gz", ".jsonl"):
        name = name.removesuffix(suffix)
    found = _UUID_AT_END.search(name)
    return found.group(0) if found else name


class _Meta:
    def __init__(self) -> None:
        self.line_number = 0
        self.session_id: str | None = None
        self.at: dt.datetime | None = None
        self.cwd = self.branch = self.repository = self.version = None
        self.parent_id: str | None = None


def _read_meta(line_number: int, record: dict, problems: list[tuple[int, str]]) -> _Meta:
    """The file's session_meta; a bad field is dropped (and its line quarantined), the rest kept."""
    meta = _Meta()
    meta.line_number = line_number
    payload = _payload(record, "session_meta")

    def field(read):
        try:
            return read()
        except LineProblem as problem:
            problems.append((line_number, str(problem)))
            return None

    meta.session_id = field(lambda: _text(payload, "id", "session_meta"))
    meta.at = field(
        lambda: _timestamp(
            record["timestamp"] if record.get("timestamp") is not None else payload.get("timestamp"), "session_meta"
        )
    )
    meta.cwd = field(lambda: _text(payload, "cwd", "session_meta")) or None
    meta.version = field(lambda: _text(payload, "cli_version", "session_meta")) or None
    git = payload.get("git")
    if isinstance(git, dict):
        meta.branch = field(lambda: _text(git, "branch", "session_meta: git")) or None
        meta.repository = repository_from_remote(field(lambda: _text(git, "repository_url", "session_meta: git")))
    elif git is not None:
        problems.append((line_number, "session_meta: git is not an object"))
    forked = payload.get("forked_from_id")
    source = payload.get("source")
    spawn = source.get("subagent") if isinstance(source, dict) else None
    spawn = spawn.get("thread_spawn") if isinstance(spawn, dict) else None
    parent = spawn.get("parent_thread_id") if isinstance(spawn, dict) else None
    for candidate in (forked, parent):
        if isinstance(candidate, str) and candidate:
            meta.parent_id = candidate
            break
    return meta


def parse_file(source_file: str, lines: Lines) -> ParsedFile:
    parsed = ParsedFile()
    records: list[tuple[int, dict, str]] = []
    for line_number, text in lines:
        if text is None:
            continue  # valid JSON with no marker: a line this parser does not read
        try:
            record = _json_object(text)
        except LineProblem as problem:
            parsed.quarantined.append((line_number, str(problem)))
            continue
        kind = _kind(record)
        if kind:
            records.append((line_number, record, kind))

    meta = None
    for line_number, record, kind in records:
        if kind == "session_meta":
            try:
                meta = _read_meta(line_number, record, parsed.quarantined)
            except LineProblem as problem:
                parsed.quarantined.append((line_number, str(problem)))
            break
    session_id = (meta.session_id if meta and meta.session_id else None) or _fallback_session_id(source_file)
    version = meta.version if meta else None
    # Only a file whose first line is the session_meta of a fork or subagent replays a parent's history.
    is_child = bool(meta and meta.parent_id and meta.line_number == 1)
    burst = _replay_burst_start(records) if is_child else None

    previous_totals = None
    current_model, model_assumed = None, False
    skipping_since = burst
    for line_number, record, kind in records:
        try:
            if kind == "turn_context":
                model = _model_of(_payload(record, "turn_context"), "turn_context")
                if model:
                    current_model, model_assumed = model, False
                continue
            if kind != "token_count":
                continue
            raw_timestamp = record.get("timestamp")
            at = _timestamp(raw_timestamp, "token_count")
            payload = record["payload"]
            info = payload.get("info")
            if info is None:
                continue  # a rate-limit update without usage
            if not isinstance(info, dict):
                raise LineProblem("token_count: info is not an object")
            total = _usage(info, "total_token_usage")
            last = _usage(info, "last_token_usage")
            parsed_model = _model_of(payload, "token_count") or _model_of(info, "token_count: info")
        except LineProblem as problem:
            parsed.quarantined.append((line_number, str(problem)))
            continue

        advanced = total is None or total != previous_totals
        usage = last if last is not None and advanced else (_minus(total, previous_totals) if total else None)
        if total is not None:
            previous_totals = total
        if usage is None:
            continue
        usage = _capped(usage)
        if not any(usage[:5]):
            continue

        if parsed_model:
            current_model, model_assumed = parsed_model, False
        assumed = False
        if parsed_model:
            model = parsed_model
        elif current_model:
            model = current_model
        else:
            model, assumed = FALLBACK_MODEL, True
            current_model, model_assumed = FALLBACK_MODEL, True
        if model_assumed:
            assumed = True
        if model == AUTO_REVIEW_MODEL:
            model, assumed = _auto_review_model(raw_timestamp, at), True

        if skipping_since is not None:
            if dt.timedelta(0) <= at - skipping_since <= REPLAY_BURST_GAP:
                skipping_since = at
                continue  # the parent's history, replayed
            skipping_since = None

        inp, cached, write, out, reasoning, _total = usage
        parsed.requests.append(
            Request(
                line_number=line_number,
                session_id=session_id,
                request_key=request_key(at, model, usage),
                event_at_utc=at,
                model=model,
                is_fallback_model=assumed,
                input_tokens=inp - cached - write,
                output_tokens=out,
                cache_read_input_tokens=cached,
                cache_creation_input_tokens=write,
                reasoning_output_tokens=reasoning,
                client_version=version,
            )
        )

    times = [request.event_at_utc for request in parsed.requests] + ([meta.at] if meta and meta.at else [])
    if times:
        parsed.sessions.append(
            Session(
                line_number=meta.line_number if meta else 0,
                session_id=session_id,
                first_at_utc=min(times),
                last_at_utc=max(times),
                cwd=meta.cwd if meta else None,
                git_branch=meta.branch if meta else None,
                repository=meta.repository if meta else None,
                client_version=version,
            )
        )
    return parsed


def _replay_burst_start(records: list[tuple[int, dict, str]]) -> dt.datetime | None:
    """When the file's first two token_count events that carry usage are at most a second apart: the first one's
    time (the replayed burst starts there). ccusage's test, on the raw lines."""
    found = []
    for _, record, kind in records:
        if kind != "token_count":
            continue
        info = record["payload"].get("info")
        if not isinstance(info, dict) or (
            info.get("last_token_usage") is None and info.get("total_token_usage") is None
        ):
            continue
        try:
            found.append(_timestamp(record.get("timestamp"), "token_count"))
        except LineProblem:
            continue
        if len(found) == 2:
            return found[0] if dt.timedelta(0) <= found[1] - found[0] <= REPLAY_BURST_GAP else None
    return None


# -- files read, the collector's copy -------------------------------------------------------------------------


def wanted(path: PurePosixPath) -> bool:
    """Rollout files under sessions/ or archived_sessions/ of the collected Codex home."""
    return len(path.parts) > 1 and path.parts[0] in ("sessions", "archived_sessions") and path.name.endswith(".jsonl")


# Placeholders of the copy: a line the parser does not read, and one that is not JSON.
_IGNORED_LINE = "{}"
_INVALID_LINE = "{not json"
_NOT_AN_OBJECT = '["token_count"]'


def _kept(value, keep_text: bool):
    """A value in a field the parser reads: numbers, booleans and null as they are; text only where the
    warehouse keeps it (ids, times, model, cwd, branch, version), else empty text of the same type; an object
    or array where a scalar is read: an empty one (still the wrong type, still the same quarantine reason)."""
    if isinstance(value, str):
        return value if keep_text else ""
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return value


def _kept_time(value):
    """A time as it is when it is one; other text (which may be anything) as empty text, still not a time."""
    if isinstance(value, str):
        try:
            _timestamp(value, "")
        except LineProblem:
            return ""
        return value
    return _kept(value, False)


def _project(record: dict, kind: str) -> dict:
    """Only what parse_file reads of a line, with the same types."""
    out: dict = {}
    if "timestamp" in record:
        out["timestamp"] = _kept_time(record["timestamp"])
    out["type"] = record["type"]
    payload = record.get("payload")
    if not isinstance(payload, dict):
        out["payload"] = _kept(payload, False)
        return out
    kept: dict = {}
    if kind == "session_meta":
        for name in ("id", "cwd", "cli_version", "forked_from_id"):
            if name in payload:
                kept[name] = _kept(payload[name], True)
        if "timestamp" in payload:
            kept["timestamp"] = _kept_time(payload["timestamp"])
        git = payload.get("git")
        if isinstance(git, dict):
            kept["git"] = {}
            if "branch" in git:
                kept["git"]["branch"] = _kept(git["branch"], True)
            if "repository_url" in git:
                url = git["repository_url"]
                name = repository_from_remote(url) if isinstance(url, str) else None
                # The remote as "owner/name" on a placeholder host: no credentials, no host.
                kept["git"]["repository_url"] = ("https://git.invalid/" + name) if name else _kept(url, False)
        elif "git" in payload:
            kept["git"] = _kept(git, False)
        source = payload.get("source")
        spawn = source.get("subagent") if isinstance(source, dict) else None
        spawn = spawn.get("thread_spawn") if isinstance(spawn, dict) else None
        if isinstance(spawn, dict) and "parent_thread_id" in spawn:
            kept["source"] = {
                "subagent": {"thread_spawn": {"parent_thread_id": _kept(spawn["parent_thread_id"], True)}}
            }
    else:
        if kind == "token_count":
            kept["type"] = "token_count"
        _project_model(payload, kept)
        if kind == "token_count" and "info" in payload:
            info = payload["info"]
            if isinstance(info, dict):
                kept_info: dict = {}
                _project_model(info, kept_info)
                for name in ("total_token_usage", "last_token_usage"):
                    if name not in info:
                        continue
                    usage = info[name]
                    if isinstance(usage, dict):
                        kept_info[name] = {
                            key: _kept(usage[key], False)
                            for names in USAGE_FIELDS.values()
                            for key in names
                            if key in usage
                        }
                    else:
                        kept_info[name] = _kept(usage, False)
                kept["info"] = kept_info
            else:
                kept["info"] = _kept(info, False)
    out["payload"] = kept
    return out


def _project_model(container: dict, kept: dict) -> None:
    for name in ("model", "model_name"):
        if name in container:
            kept[name] = _kept(container[name], True)
    metadata = container.get("metadata")
    if isinstance(metadata, dict) and "model" in metadata:
        kept["metadata"] = {"model": _kept(metadata["model"], True)}


def strip_text(text: str) -> str:
    """The content-free copy of a rollout file's text: the same lines (so the same line numbers), each line the
    parser reads reduced to the fields it reads, every other JSON line `{}`, a line that is not JSON a fixed
    non-JSON placeholder, blank lines blank."""
    out = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        try:
            record = _json_object(line)
        except LineProblem as problem:
            if str(problem) == "invalid JSON":
                out.append(_INVALID_LINE)
            else:  # valid JSON, not an object: the parser sees it (and quarantines it) only with a marker
                out.append(_NOT_AN_OBJECT if _has_marker(line) else _IGNORED_LINE)
            continue
        kind = _kind(record) if _has_marker(line) else None  # without a marker the parser never sees it
        out.append(
            json.dumps(_project(record, kind), separators=(",", ":"), ensure_ascii=False) if kind else _IGNORED_LINE
        )
    return "\n".join(out)


def _has_marker(line: str) -> bool:
    return any(marker in line for marker in LINE_MARKERS)


def strip_file(path: Path) -> bytes | None:
    """The collector's copy of a rollout file: the same format, only what parse_file reads (see strip_text);
    None for an empty file."""
    data = path.read_bytes()
    compressed = path.name.endswith(".gz")
    if compressed:
        data = gzip.decompress(data)
    if not data.strip():
        return None
    stripped = strip_text(data.decode("utf-8", errors="replace")).encode()
    return gzip.compress(stripped, mtime=0) if compressed else stripped


# -- parity with ccusage ---------------------------------------------------------------------------------------


def _ccusage_env(homes: list[Path]) -> dict[str, str] | None:
    """CODEX_HOME takes several homes separated by commas (a home whose path has one: one run each)."""
    if any("," in str(home) for home in homes):
        return None if len(homes) > 1 else {"CODEX_HOME": str(homes[0])}
    return {"CODEX_HOME": ",".join(str(home) for home in homes)}


def _ccusage_rows(report: dict) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (day["date"], model): {kind: int(figures.get(kind, 0)) for kind in CCUSAGE_KINDS}
        for day in report.get("daily", [])
        for model, figures in day.get("models", {}).items()
    }


# ccusage's inputTokens is the uncached input (input - cached - cache writes), as ours.
CCUSAGE_KINDS = {
    "inputTokens": "input_tokens",
    "cacheReadTokens": "cache_read_input_tokens",
    "cacheCreationTokens": "cache_creation_input_tokens",
    "outputTokens": "output_tokens",
    "reasoningOutputTokens": "reasoning_output_tokens",
}

CCUSAGE = CcusageParity(command="codex", env=_ccusage_env, rows=_ccusage_rows, kinds=CCUSAGE_KINDS)

FORMAT = AgentLogFormat(
    source=SOURCE,
    agent=AGENT,
    parse_file=parse_file,
    line_markers=LINE_MARKERS,
    wanted=wanted,
    strip_file=strip_file,
    local_home="~/.codex",
    home_env="CODEX_HOME",
    suffixes=(".jsonl",),
)
