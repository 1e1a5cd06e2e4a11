"""Sample Gemini CLI chat recordings: `<raw-dir>/gemini/<email>/tmp/<project folder>/chats/...`, in the formats
orchestration/ingest/gemini.py reads (as Gemini CLI's chatRecordingService writes them).

Each user upgrades Gemini CLI on some day: before it, sessions are legacy whole-file documents
`session-<time>-<id8>.json` (pretty-printed, rewritten as the session grows) in a folder named by the sha256 of
the checkout's path; from it on, `.jsonl` record streams, and the project folder is the checkout's slug
(Gemini CLI moves the old folder there on upgrade, legacy files included). A user who upgraded before the window
has only `.jsonl`, one who upgrades after it only `.json` in hash folders.

The traps of the real files: `input` includes `cached`; thoughts and the tool-use prompt counted apart; a
`.jsonl` message appended again when its tokens and tool calls arrive (one request); a message recorded without
usage (cancelled); a synthetic gemini message without `model` (ccusage and we take the file's last model);
`$set` and `$rewindTo` records (rewound requests were still billed); a session resumed on a later day (appended
to its file); a subagent in `chats/<parent session id>/<id>.jsonl`; now and then a `.jsonl` whose last line was
cut off mid-write, or a `.json` caught half-written (both are read by neither ccusage nor us: quarantined).
Content (prompts, responses, thoughts, tool arguments and results) is in the files, as in the real ones.

Not in the sample: a legacy `.json` resumed by a newer Gemini CLI, which copies it into a `.jsonl` beside it:
ccusage 20.0.24 counts such a copy twice and we count it once (tests/integration/test_gemini_source.py checks that
difference), and the sample's parity with ccusage must hold."""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.sample.agents import SampleUser, random_uuid4

SOURCE = "gemini"
# Model ids as Gemini CLI records them, all priced by genai-prices: (weight, model, thinks)
MODELS = (
    (35, "gemini-2.5-pro", True),
    (30, "gemini-2.5-flash", True),
    (15, "gemini-3-pro-preview", True),
    (15, "gemini-3-flash-preview", True),
    (5, "gemini-2.5-flash-lite", False),
)
FALLBACK_MODEL = "gemini-2.5-flash"  # what Gemini CLI switches to when the Pro quota runs out
TOOLS = ("read_file", "run_shell_command", "replace", "glob", "search_file_content", "write_file")
PROMPTS = (
    "fix the failing test in the parser",
    "add pagination to the list endpoint",
    "why is this query slow",
    "write a migration for the new column",
    "explain the retry logic",
    "refactor the config loader",
)
RESPONSES = (
    "I'll start by reading the relevant files.",
    "The test fails because the fixture is stale.",
    "Here is the change, with a test.",
    "The query scans the whole table; an index helps.",
)


def _iso(moment: datetime.datetime) -> str:
    """JavaScript's toISOString: UTC, milliseconds, Z."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _slug(checkout: str) -> str:
    """Gemini CLI's project folder name for a checkout (ProjectRegistry.slugify of its base name)."""
    return re.sub(r"[^a-z0-9]+", "-", checkout.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-") or "project"


def _sessions_on(rng: random.Random, activity: float) -> int:
    draw = rng.random()
    return 0 if draw > 0.3 + 0.6 * activity else 1 if draw > 0.3 * activity else 2


class _Session:
    """One recorded conversation: its messages as dicts, in order (the .json form), and its .jsonl records."""

    def __init__(
        self,
        session_id: str,
        project_hash: str,
        start: datetime.datetime,
        kind: str | None = None,
        directories: list[str] | None = None,
    ):
        self.session_id, self.project_hash, self.start = session_id, project_hash, start
        self.last = start
        self.messages: list[dict] = []
        meta = {
            "sessionId": session_id,
            "projectHash": project_hash,
            "startTime": _iso(start),
            "lastUpdated": _iso(start),
        }
        if kind:
            meta["kind"] = kind
        if directories:
            meta["directories"] = directories
        self.records: list[str] = [_line(meta)]
        self.requests = 0

    def touch(self, moment: datetime.datetime) -> None:
        self.last = max(self.last, moment)
        self.records.append(_line({"$set": {"lastUpdated": _iso(moment)}}))

    def user(self, rng: random.Random, moment: datetime.datetime) -> None:
        message = {
            "id": random_uuid4(rng),
            "timestamp": _iso(moment),
            "type": "user",
            "content": [{"text": rng.choice(PROMPTS)}],
        }
        self.messages.append(message)
        self.records.append(_line(message))
        self.touch(moment)

    def gemini(
        self, rng: random.Random, moment: datetime.datetime, model: str | None, tokens: dict | None, tool_calls: bool
    ) -> None:
        message = {
            "id": random_uuid4(rng),
            "timestamp": _iso(moment),
            "type": "gemini",
            "content": rng.choice(RESPONSES),
            "thoughts": [],
        }
        if tokens and tokens.get("thoughts"):
            message["thoughts"] = [
                {"subject": "Planning", "description": "Looking at the code paths first.", "timestamp": _iso(moment)}
            ]
        if model is not None:
            message["model"] = model
        # Gemini CLI records the message, then its usage (the same message appended again), then tool calls.
        self.records.append(_line({**message, "tokens": None}))
        message["tokens"] = tokens
        if tokens is not None:
            self.records.append(_line(message))
            self.requests += 1
        if tool_calls:
            name = rng.choice(TOOLS)
            message["toolCalls"] = [
                {
                    "id": f"{name}-{rng.getrandbits(40)}",
                    "name": name,
                    "args": {"absolute_path": "src/app/main.py"},
                    "result": [
                        {"functionResponse": {"name": name, "response": {"output": "def main():\n    run()\n"}}}
                    ],
                    "status": "success",
                    "timestamp": _iso(moment),
                    "displayName": name,
                    "description": "",
                    "renderOutputAsMarkdown": False,
                }
            ]
            self.records.append(_line(message))
        self.messages.append(message)
        self.touch(moment)

    def rewind(self) -> None:
        """/rewind: the last exchange leaves the conversation (its request was billed all the same)."""
        if len(self.messages) >= 2:
            target = self.messages[-2]["id"]
            self.messages = self.messages[:-2]
            self.records.append(_line({"$rewindTo": target}))

    def resume(self, moment: datetime.datetime) -> None:
        self.records.append(_line({"$set": {"sessionId": self.session_id}}))
        self.touch(moment)

    def document(self) -> str:
        """The legacy whole-file form: JSON.stringify(conversation, null, 2), no final newline."""
        return json.dumps(
            {
                "sessionId": self.session_id,
                "projectHash": self.project_hash,
                "startTime": _iso(self.start),
                "lastUpdated": _iso(self.last),
                "messages": self.messages,
            },
            ensure_ascii=False,
            indent=2,
        )


def _tokens(rng: random.Random, context: int, turn: int, thinks: bool) -> dict:
    prompt = context + rng.randint(200, 3000)
    cached = int(prompt * rng.uniform(0.3, 0.9)) if turn > 0 and rng.random() < 0.8 else 0
    output = rng.randint(40, 1500)
    thoughts = rng.randint(0, 2500) if thinks and rng.random() < 0.8 else 0
    tool = rng.randint(5, 200) if rng.random() < 0.05 else 0
    return {
        "input": prompt,
        "output": output,
        "cached": cached,
        "thoughts": thoughts,
        "tool": tool,
        "total": prompt + output + thoughts + tool,
    }


def _pick_model(rng: random.Random) -> tuple[str, bool]:
    _, model, thinks = rng.choices(MODELS, weights=[weight for weight, *_ in MODELS])[0]
    return model, thinks


def _conversation(
    rng: random.Random,
    session: _Session,
    start: datetime.datetime,
    model: str,
    thinks: bool,
    turns: int,
    jsonl: bool = True,
) -> datetime.datetime:
    """A few turns. Synthetic messages without a model and /rewind are of the .jsonl era (a legacy .json
    message always names its model)."""
    moment, context = start, rng.randint(6000, 14000)  # system prompt, GEMINI.md, the folder structure
    for turn in range(turns):
        moment += datetime.timedelta(seconds=rng.randint(20, 400))
        session.user(rng, moment)
        for _ in range(rng.randint(1, 3)):  # a turn: the model's calls, with tool calls in between
            moment += datetime.timedelta(seconds=rng.randint(3, 60))
            if rng.random() < 0.03:
                session.gemini(rng, moment, model, None, False)  # cancelled before any usage arrived
                continue
            tokens = _tokens(rng, context, turn, thinks)
            context = tokens["input"] + tokens["output"]
            # A synthetic gemini message: no model of its own, after one that names it (with no model named
            # earlier in the file, ccusage drops the message and we count it as unknown: see the README).
            synthetic = jsonl and rng.random() < 0.03 and turn > 0
            session.gemini(rng, moment, None if synthetic else model, tokens, tool_calls=rng.random() < 0.6)
            if model in ("gemini-2.5-pro", "gemini-3-pro-preview") and rng.random() < 0.02:
                model, thinks = FALLBACK_MODEL, True  # quota: Gemini CLI falls back to Flash
        if jsonl and rng.random() < 0.03:
            session.rewind()
    return moment


def write_sample(raw_dir: Path, users: list[SampleUser], dates: list[datetime.date], rng: random.Random) -> int:
    """Write the users' chat files; the number of requests (gemini messages with usage) they carry that a
    loader reads (a half-written .json carries none)."""
    written = 0
    for index, user in enumerate(users):
        zone = ZoneInfo(user.timezone)
        checkouts = user.checkouts or (f"/home/{user.email.split('@')[0]}/src/project",)
        # Index 0: upgraded before the window; the last: not yet; the others, on some day within it.
        upgrade = (
            dates[0]
            if index == 0
            else dates[-1] + datetime.timedelta(days=1)
            if index == len(users) - 1
            else rng.choice(dates)
        )
        migrated = upgrade <= dates[-1]
        files: dict[Path, _Session] = {}
        resumable: list[Path] = []
        for day in dates:
            if day.weekday() >= 5 and rng.random() > 0.1:
                continue
            for _ in range(_sessions_on(rng, user.activity)):
                new_format = day >= upgrade
                start = datetime.datetime.combine(
                    day, datetime.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)), zone
                )
                if new_format and resumable and rng.random() < 0.15:  # gemini --resume: appended to its file
                    path = resumable.pop(rng.randrange(len(resumable)))
                    session = files[path]
                    session.resume(start)
                    model, thinks = _pick_model(rng)
                    _conversation(rng, session, start, model, thinks, rng.randint(1, 4))
                    continue
                checkout = rng.choice(checkouts)
                project_hash = hashlib.sha256(checkout.encode()).hexdigest()
                folder = _slug(checkout) if migrated else project_hash
                session = _Session(random_uuid4(rng), project_hash, start)
                stamp = start.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H-%M")
                name = f"session-{stamp}-{session.session_id[:8]}.{'jsonl' if new_format else 'json'}"
                path = raw_dir / SOURCE / user.email / "tmp" / folder / "chats" / name
                files[path] = session
                model, thinks = _pick_model(rng)
                end = _conversation(rng, session, start, model, thinks, rng.randint(1, 8), jsonl=new_format)
                if new_format:
                    resumable.append(path)
                    if rng.random() < 0.1:  # a subagent (codebase investigator) of this session
                        sub = _Session(random_uuid4(rng), project_hash, end, kind="subagent", directories=[checkout])
                        _conversation(rng, sub, end, "gemini-2.5-flash", True, rng.randint(1, 3))
                        files[path.parent / session.session_id / f"{sub.session_id}.jsonl"] = sub
        for path, session in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".json":
                text = session.document()
                if rng.random() < 0.02:  # caught while Gemini CLI rewrote it
                    path.write_text(text[: len(text) // 2], encoding="utf-8")
                    continue
                path.write_text(text, encoding="utf-8")
            else:
                text = "\n".join(session.records) + "\n"
                if rng.random() < 0.04:  # the last record cut off mid-write (a message that never finished)
                    text += _line(
                        {
                            "id": random_uuid4(rng),
                            "timestamp": _iso(session.last),
                            "type": "gemini",
                            "content": "Let me",
                        }
                    )[:40]
                path.write_text(text, encoding="utf-8")
            written += session.requests
    return written
