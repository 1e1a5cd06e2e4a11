"""Sample Codex CLI rollout logs: `<raw-dir>/codex/<email>/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`
(the collected `~/.codex`), in the format orchestration/ingest/codex.py reads, compact JSON as Codex writes it.

A session is a session_meta (cwd, CLI version, git branch and remote: now and then an https remote with a token
in it), then turns: the prompt, a turn_context naming the model (now and then switched with /model), reasoning,
tool calls and their output, the answer, and a token_count event whose totals are cumulative for the session.
The traps of the real files: cached input inside the input, reasoning inside the output, token_count events
re-emitted with an unchanged total (rate-limit refreshes), token_count events without usage, a session resumed
on a later day (appended to its file, the totals restarted), a fork that replays its parent's history as a
burst at the fork instant, sessions moved to archived_sessions/ (one with an earlier copy left behind), a user on
an old CLI that writes no turn_context and only cumulative totals (gpt-5 assumed), content everywhere, and now
and then a last line cut off mid-write."""

from __future__ import annotations

import datetime
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.sample.agents import SampleUser

SOURCE = "codex"
CLIENT_VERSIONS = ("0.98.0", "0.99.1", "0.100.0")
OLD_CLIENT_VERSION = "0.36.0"  # before turn_context and last_token_usage
# Models as Codex names them; all priced (dbt_project/seeds/model_prices.csv). (weight, model)
MODELS = ((30, "gpt-5.3-codex"), (30, "gpt-5.4"), (25, "gpt-5.5"), (15, "gpt-5.4-mini"))
BRANCHES = ("main", "main", "feature/retries", "fix/flaky-test", "chore/deps")
PROMPTS = (
    "make the importer idempotent",
    "why is this test flaky",
    "add pagination to the list endpoint",
    "refactor the config loader",
    "write a migration for the new column",
    "explain this panic",
)
TOOLS = ("shell", "apply_patch", "read_file", "update_plan")
RATE_LIMITS = {
    "primary": {"used_percent": 12.0, "window_minutes": 300, "resets_in_seconds": 7200},
    "secondary": {"used_percent": 3.0, "window_minutes": 10080, "resets_in_seconds": 400000},
}


def _line(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _usage(inp: int, cached: int, out: int, reasoning: int) -> dict:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


@dataclass
class _Session:
    session_id: str
    path: Path
    checkout: int
    model: str
    lines: list[str] = field(default_factory=list)
    token_lines: list[dict] = field(default_factory=list)  # the token_count events written (for a fork's replay)
    totals: tuple[int, int, int, int] = (0, 0, 0, 0)
    context: int = 0
    ended_at: datetime.datetime | None = None


def write_sample(raw_dir: Path, users: list[SampleUser], dates: list[datetime.date], rng: random.Random) -> int:
    """Write the users' rollout files; the number of requests (token_count events that ccusage and the warehouse
    count) written."""
    written = 0
    for index, user in enumerate(users):
        home = raw_dir / SOURCE / user.email
        zone = ZoneInfo(user.timezone)
        old_cli = index == len(users) - 1 and len(users) > 1  # the last one never updated Codex
        version = OLD_CLIENT_VERSION if old_cli else rng.choice(CLIENT_VERSIONS)
        secret_remote = rng.random() < 0.5
        sessions: list[_Session] = []
        for day in dates:
            if day.weekday() >= 5 and rng.random() > 0.1:
                continue
            for _ in range(_sessions_on(rng, user.activity)):
                start = datetime.datetime.combine(
                    day, datetime.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)), zone
                )
                if sessions and not old_cli and rng.random() < 0.12:
                    parent = rng.choice(sessions[-5:])
                    # A replay of one event is no burst: ccusage would find it only in the parent's file.
                    if parent.ended_at and parent.ended_at < start and len(parent.token_lines) >= 2:
                        session = _fork(rng, home, user, parent, start, version)
                        written += _turns(rng, session, start + datetime.timedelta(seconds=rng.randint(5, 15)), old_cli)
                        sessions.append(session)
                        continue
                if sessions and not old_cli and rng.random() < 0.1:  # codex resume: appended, totals restarted
                    session = rng.choice(sessions[-5:])
                    if session.ended_at and session.ended_at < start:
                        session.totals, session.context = (0, 0, 0, 0), 0
                        written += _turns(rng, session, start, old_cli)
                        continue
                session = _new_session(rng, home, user, start, version, secret_remote, old_cli)
                written += _turns(rng, session, start + datetime.timedelta(seconds=2), old_cli)
                sessions.append(session)
        for session in sessions:
            _store(rng, home, session)
    return written


def _sessions_on(rng: random.Random, activity: float) -> int:
    draw = rng.random()
    return 0 if draw > 0.35 + 0.6 * activity else 1 if draw > 0.25 * activity else 2


def _uuid(rng: random.Random, moment: datetime.datetime) -> str:
    """A UUIDv7, as Codex names sessions: the time in its first 48 bits."""
    millis = int(moment.timestamp() * 1000)
    return "%08x-%04x-7%03x-%04x-%012x" % (
        millis >> 16,
        millis & 0xFFFF,
        rng.getrandbits(12),
        0x8000 | rng.getrandbits(14),
        rng.getrandbits(48),
    )


def _rollout_path(home: Path, start: datetime.datetime, session_id: str) -> Path:
    return (
        home
        / "sessions"
        / start.strftime("%Y/%m/%d")
        / f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{session_id}.jsonl"
    )


def _meta(session_id: str, start: datetime.datetime, cwd: str, version: str, git: dict | None, **extra) -> str:
    payload = {
        "id": session_id,
        "timestamp": _stamp(start),
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": version,
        "instructions": None,
        "source": "cli",
        "model_provider": "openai",
        **extra,
    }
    if git:
        payload["git"] = git
    return _line({"timestamp": _stamp(start), "type": "session_meta", "payload": payload})


def _new_session(rng, home, user: SampleUser, start, version, secret_remote, old_cli) -> _Session:
    session_id = _uuid(rng, start)
    checkout = rng.randrange(max(1, len(user.checkouts)))
    cwd = user.checkouts[checkout] if user.checkouts else f"/home/{user.email.split('@')[0]}"
    git = None
    if checkout < len(user.repositories):
        repository = user.repositories[checkout]
        local = user.email.split("@")[0]
        url = (
            f"https://{local}:ghp_{rng.getrandbits(64):016x}@github.com/{repository}.git"
            if secret_remote
            else f"git@github.com:{repository}.git"
        )
        git = {"commit_hash": f"{rng.getrandbits(64):016x}", "branch": rng.choice(BRANCHES), "repository_url": url}
    session = _Session(session_id, _rollout_path(home, start, session_id), checkout, _model(rng))
    session.lines.append(_meta(session_id, start, cwd, version, git))
    if not old_cli:
        session.lines.append(
            _line(
                {
                    "timestamp": _stamp(start),
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {
                                "type": "input_text",
                                "text": f"<environment_context><cwd>{cwd}</cwd></environment_context>",
                            }
                        ],
                    },
                }
            )
        )
    return session


def _fork(rng, home, user: SampleUser, parent: _Session, start, version) -> _Session:
    """A fork of `parent`: its history replayed as a burst rewritten to the fork instant, then its own turns."""
    session_id = _uuid(rng, start)
    cwd = user.checkouts[parent.checkout] if user.checkouts else "/"
    session = _Session(
        session_id,
        _rollout_path(home, start, session_id),
        parent.checkout,
        parent.model,
        token_lines=list(parent.token_lines),
        totals=parent.totals,
        context=parent.context,
    )
    session.lines.append(_meta(session_id, start, cwd, version, None, forked_from_id=parent.session_id))
    moment = start
    for copied in parent.token_lines:
        moment += datetime.timedelta(milliseconds=rng.randint(1, 4))
        session.lines.append(_line({**copied, "timestamp": _stamp(moment)}))
    return session


def _model(rng: random.Random) -> str:
    return rng.choices([model for _, model in MODELS], [weight for weight, _ in MODELS])[0]


def _turns(rng: random.Random, session: _Session, start: datetime.datetime, old_cli: bool) -> int:
    """A few turns appended to the session; the requests written."""
    moment, requests = start, 0
    for _ in range(rng.randint(1, 6)):
        prompt = f"{rng.choice(PROMPTS)} (SECRET-PROMPT-codex-{rng.getrandbits(32):08x})"
        session.lines.append(
            _line(
                {
                    "timestamp": _stamp(moment),
                    "type": "response_item",
                    "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]},
                }
            )
        )
        session.lines.append(
            _line(
                {
                    "timestamp": _stamp(moment),
                    "type": "event_msg",
                    "payload": {"type": "user_message", "message": prompt, "images": []},
                }
            )
        )
        if not old_cli:
            if rng.random() < 0.08:
                session.model = _model(rng)  # /model
            session.lines.append(
                _line(
                    {
                        "timestamp": _stamp(moment),
                        "type": "turn_context",
                        "payload": {
                            "cwd": "",
                            "approval_policy": "on-request",
                            "sandbox_policy": {"mode": "workspace-write"},
                            "model": session.model,
                            "effort": rng.choice(("low", "medium", "high")),
                            "summary": "auto",
                        },
                    }
                )
            )
        for _ in range(rng.randint(1, 3)):  # one request per model call of the turn
            moment += datetime.timedelta(seconds=rng.randint(4, 40), milliseconds=rng.randint(0, 999))
            session.lines.append(
                _line(
                    {
                        "timestamp": _stamp(moment),
                        "type": "response_item",
                        "payload": {
                            "type": "reasoning",
                            "summary": [{"type": "summary_text", "text": "SECRET-REASONING-codex"}],
                            "content": None,
                            "encrypted_content": f"gAAAA{rng.getrandbits(64):x}",
                        },
                    }
                )
            )
            tool = rng.choice(TOOLS)
            session.lines.append(
                _line(
                    {
                        "timestamp": _stamp(moment),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call",
                            "name": tool,
                            "arguments": '{"command":["rg","SECRET-TOOL-codex"]}',
                            "call_id": f"call_{rng.getrandbits(40):x}",
                        },
                    }
                )
            )
            session.lines.append(
                _line(
                    {
                        "timestamp": _stamp(moment),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call_output",
                            "call_id": "call",
                            "output": "SECRET-TOOL-codex output",
                        },
                    }
                )
            )
            requests += _token_count(rng, session, moment, old_cli)
            if rng.random() < 0.3:  # a re-emit: the same totals again
                moment += datetime.timedelta(milliseconds=rng.randint(200, 1500))
                session.lines.append(_line({**session.token_lines[-1], "timestamp": _stamp(moment)}))
        if rng.random() < 0.2:  # a rate-limit update without usage
            session.lines.append(
                _line(
                    {
                        "timestamp": _stamp(moment),
                        "type": "event_msg",
                        "payload": {"type": "token_count", "info": None, "rate_limits": RATE_LIMITS},
                    }
                )
            )
        session.lines.append(
            _line(
                {
                    "timestamp": _stamp(moment),
                    "type": "event_msg",
                    "payload": {"type": "agent_message", "message": f"SECRET-RESPONSE-codex-{rng.getrandbits(32):08x}"},
                }
            )
        )
        moment += datetime.timedelta(seconds=rng.randint(20, 600))
    session.ended_at = moment
    return requests


def _token_count(rng: random.Random, session: _Session, moment: datetime.datetime, old_cli: bool) -> int:
    new_input = rng.randint(300, 6000)
    cached = min(session.context, int(session.context * rng.uniform(0.7, 0.95)))
    inp = session.context + new_input
    out = rng.randint(40, 2500)
    reasoning = rng.randint(0, out // 2)
    session.context = inp + out
    last = (inp, cached, out, reasoning)
    session.totals = tuple(a + b for a, b in zip(session.totals, last))
    info = {"total_token_usage": _usage(*session.totals)}
    if not old_cli:
        info["last_token_usage"] = _usage(*last)
        info["model_context_window"] = 272000
    event = {
        "timestamp": _stamp(moment),
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": RATE_LIMITS},
    }
    session.token_lines.append(event)
    session.lines.append(_line(event))
    return 1


def _store(rng: random.Random, home: Path, session: _Session) -> None:
    """The session's file: under sessions/, or moved to archived_sessions/; now and then an earlier copy of an
    active session under archived_sessions/ at the same relative path (the active copy is the whole file, so
    ccusage, which reads only the active copy, and the warehouse, which keeps one row per request, agree)."""
    text = "\n".join(session.lines) + "\n"
    if rng.random() < 0.03:  # killed while writing: the last line cut off
        text = text[: len(text) - rng.randint(5, 40)]
    draw = rng.random()
    relative = session.path.relative_to(home / "sessions")
    if draw < 0.15:  # archived: moved to archived_sessions/
        path = home / "archived_sessions" / relative
    else:
        path = session.path
        if draw < 0.2:  # archived once earlier and restored: an earlier copy under archived_sessions/
            earlier = home / "archived_sessions" / relative
            earlier.parent.mkdir(parents=True, exist_ok=True)
            cut = text.rfind("\n", 0, max(1, len(text) * 2 // 3))
            earlier.write_text(text[: cut + 1], encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
