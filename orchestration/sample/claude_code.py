"""Claude Code sessions, simulated once and written as what each user's setup records of them: transcript
files under `<raw_dir>/claude_code/<email>/projects/<encoded cwd>/` (subagent files, resumed sessions,
compaction, 1.x, 2.0 and 2.1 clients) and/or OpenTelemetry records, batched per user into collector lines."""

from __future__ import annotations

import datetime
import math
import random
import re
import shutil
import zoneinfo
from pathlib import Path

from orchestration.sample.claude_code_users import CC_VERSIONS, NO_REQUEST_ID_VERSION, OUTSIDE_EMAIL, ClaudeCodeUser
from orchestration.sample.clock import DAY_MS, epoch_day, utc_formatter
from orchestration.sample.draws import seeded_uuid
from orchestration.sample.encoding import escaped
from orchestration.sample.models import (
    BASE_CONTEXT,
    CC_MODEL_MIX,
    COMPACTION_SUMMARY,
    COMPACTION_THRESHOLD,
    FIRST_TOKEN_MS,
    HAIKU_45,
    LONG_BASE_CONTEXT,
    LONG_CONTEXT_COMPACTION_THRESHOLD,
    LONG_CONTEXT_MODELS,
    MAIN_PROJECT_SHARE,
    MS_PER_OUTPUT_TOKEN,
    OPUS_OUTPUT_FACTOR,
    OUTPUT_MAX,
    OUTPUT_MEDIAN,
    OUTPUT_SIGMA,
    ROUTINE_INPUT_TOKENS,
    SONNET_45,
    TOOL_DURATION_MAX_MS,
    TOOL_DURATION_MU,
    TOOL_DURATION_SIGMA,
    TYPED_INPUT_MU,
    TYPED_INPUT_SIGMA,
    WARM_SYSTEM_PROMPT_SHARE,
    pick_model,
)
from orchestration.sample.orgs import MAIN_ORG, SECOND_ORG
from orchestration.sample.otel import OTEL_COLLECTOR, Collector, int_attribute, string_attribute
from orchestration.sample.prices import cost_usd
from orchestration.sample.rhythm import CC_SESSIONS_PER_ACTIVE_WORKDAY, on_vacation, sessions_started, start_hour
from orchestration.sample.texts import (
    BRANCHES,
    PROMPT_TEXTS,
    RESPONSE_TEXTS,
    SOURCE_FILES,
    SUMMARIES,
    THOUGHT_TEXTS,
    TOOL_RESULT_LINE_WEIGHTS,
    TOOL_RESULTS,
)

CLAUDE_CODE_DAYS = 30  # Claude Code deletes transcripts after 30 days; telemetry was switched on as long ago
AGENT_PROGRESS_SHARE = 0.8  # subagent responses whose lines also reach the parent file as agent_progress copies
QUEUED_PROMPT_SHARE = 0.05  # prompts typed while Claude was busy: enqueued, then dequeued
INFERENCE_GEOS = ("not_available", "global")
SUBAGENT_HAIKU_SHARE = 0.6  # Explore-style subagents run on haiku, the others on the session's model
BACKGROUND_MODEL = HAIKU_45  # titles and command checks: in telemetry, never in transcripts
BACKGROUND_REQUEST_SHARE = 0.3  # per prompt
TURNS_MEDIAN, TURNS_SIGMA, TURNS_MAX = 3, 0.9, 80  # prompts per session: heavy-tailed
STEPS_MEDIAN, STEPS_SIGMA, STEPS_MAX = 4, 0.8, 60  # API requests per prompt (the agentic loop)
SUBAGENT_STEPS = (3, 12)
PROMPT_GAP_MU, PROMPT_GAP_SIGMA = math.log(90.0), 1.0  # seconds until the person's next prompt
THINKING_SHARE, TEXT_SHARE = 0.3, 0.6  # content blocks of a response besides its tool call
STREAMED_SHARE, STREAM_STEP_MS = 0.4, 400  # earlier lines of the response carry a partial output_tokens
CC_TOOLS = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "Task")
CC_TOOL_WEIGHTS = (30, 22, 20, 10, 6, 5, 3, 4)
SUBAGENT_TOOLS, SUBAGENT_TOOL_WEIGHTS = ("Read", "Grep", "Glob", "Bash"), (40, 30, 20, 10)
SYNTHETIC_ERROR_SHARE = 0.01  # prompts first answered by a `<synthetic>` API error stub, then retried
RESUME_SHARE, RESUME_DELAY_S, RESUME_TURNS = 0.07, (1_800, 18_000), (1, 3)
TRUNCATED_FILE_SHARE = 0.004  # Claude Code killed mid-write: the file ends in half a line
ONE_HOUR_CACHE_SHARE = 0.12  # sessions writing their prompt cache with the 1h TTL
CC_LONG_CONTEXT_SHARE = 0.01  # sessions on the 1M-context sonnet that grow past 200K
SUMMARY_LINE_SHARE = 0.2  # files starting with the title of an earlier conversation

_ENCODED_PATH = re.compile(r"[^A-Za-z0-9-]")  # how Claude Code names a project folder after its cwd


class _Cutoff(Exception):
    """The snapshot is taken mid-session: later lines and records do not exist yet."""


class _Conversation:
    """One transcript stream (a session file, or a subagent's) and the prompt-cache state of its context."""

    def __init__(
        self,
        *,
        session_id: str,
        cwd: str,
        version: str,
        branch: str,
        model: str,
        base: int,
        one_hour: bool,
        threshold: int,
        lines: list[str] | None,
        agent_id: str | None = None,
        sidechain: bool = False,
        progress_to: _Conversation | None = None,
    ) -> None:
        self.session_id, self.cwd, self.version, self.branch = session_id, cwd, version, branch
        self.model, self.base, self.one_hour, self.threshold = model, base, one_hour, threshold
        self.lines, self.agent_id, self.sidechain = lines, agent_id, sidechain
        self.cwd_json = escaped(cwd)
        self.context, self.cached, self.last_ms, self.parent = base, 0, 0, "null"
        self.with_request_id = version != NO_REQUEST_ID_VERSION
        self.subagent_files: dict[str, list[str]] = {}
        self.progress_to = progress_to  # the parent conversation that gets agent_progress copies of responses
        self.writes_progress = version.startswith("2.1.")
        side = "true" if sidechain else "false"
        agent = f'"agentId":"{agent_id}",' if agent_id else ""
        self.prefix = (
            f'"isSidechain":{side},{agent}"userType":"external","cwd":"{self.cwd_json}",'
            f'"sessionId":"{session_id}","version":"{version}",'
            f'"gitBranch":"{escaped(branch)}"'
        )


class ClaudeCodeWriter:
    """Simulates Claude Code sessions once and writes what each user's setup records of them: transcript files
    (lines hand-formatted in Claude Code's compact JSON) and/or OpenTelemetry records, which `telemetry` (an
    `otel.Collector`) batches into collector lines and writes per UTC day."""

    def __init__(self, raw_dir: Path, rng: random.Random, end: datetime.date, sources, scale: float) -> None:
        self.transcripts_root = raw_dir / "claude_code" if "claude_code" in sources else None
        otel_root = raw_dir / "otel" / OTEL_COLLECTOR if "otel" in sources else None
        self.rng, self.scale = rng, scale
        self.cutoff_ms = (epoch_day(end) + 1) * DAY_MS
        self.last_day = epoch_day(end)
        self.fmt = utc_formatter()
        self.telemetry = Collector(otel_root, rng, self.fmt)
        self.collected: set[str] = set()
        self.counts = dict.fromkeys(("transcript_sessions", "transcript_files", "transcript_lines"), 0)

    # ---- rhythm -------------------------------------------------------------------------------------------

    def write_window(self, users: list[ClaudeCodeUser], dates: list[datetime.date]) -> None:
        rng = self.rng
        pending = {user.email: list(user.showcase) for user in users if user.showcase}
        for local_date in dates:
            weekday = local_date.weekday()
            for user in users:
                if on_vacation(user.vacation, local_date):
                    continue
                count = sessions_started(rng, weekday, user.activity, CC_SESSIONS_PER_ACTIVE_WORKDAY, self.scale)
                # all showcase sessions on the first workday present: vacations may follow
                showcase = pending.pop(user.email, []) if weekday < 5 else []
                count = max(count, len(showcase))
                midnight = datetime.datetime.combine(local_date, datetime.time(), zoneinfo.ZoneInfo(user.timezone))
                for index in range(count):
                    start = midnight + datetime.timedelta(seconds=int(start_hour(rng, weekday < 5) * 3600))
                    traits = showcase[index] if index < len(showcase) else frozenset()
                    self.session(user, int(start.timestamp() * 1000) + rng.randrange(1000), traits)
            # as in platform_events.write_platform: earlier UTC days are complete
            self.telemetry.flush_before(epoch_day(local_date))
        self.telemetry.finish(self.last_day + 2)

    def summary(self) -> dict[str, int]:
        return self.counts | self.telemetry.counts | {"transcript_users": len(self.collected)}

    # ---- one session --------------------------------------------------------------------------------------

    def session(self, user: ClaudeCodeUser, start_ms: int, traits: frozenset[str]) -> None:
        rng = self.rng
        rand = rng.random
        if start_ms >= self.cutoff_ms:
            return
        transcripts = user.transcripts and self.transcripts_root is not None
        otel_on = user.otel_from_day is not None and start_ms // DAY_MS >= user.otel_from_day
        otel = self.telemetry.root is not None and otel_on
        if not (transcripts or otel):
            return
        model = SONNET_45 if "long_context" in traits else pick_model(rng, CC_MODEL_MIX, user.opus_fan)
        long_context = "long_context" in traits or (model in LONG_CONTEXT_MODELS and rand() < CC_LONG_CONTEXT_SHARE)
        low, high = LONG_BASE_CONTEXT if long_context else BASE_CONTEXT["claude-code"]
        cwd = user.checkouts[0] if rand() < MAIN_PROJECT_SHARE else rng.choice(user.checkouts)
        conversation = _Conversation(
            session_id=seeded_uuid(rng.getrandbits),
            cwd=cwd,
            version=user.version,
            branch=rng.choice(BRANCHES),
            model=model,
            base=rng.randint(low, high),
            one_hour="one_hour" in traits or rand() < ONE_HOUR_CACHE_SHARE,
            threshold=LONG_CONTEXT_COMPACTION_THRESHOLD if long_context else COMPACTION_THRESHOLD,
            lines=[] if transcripts else None,
        )
        if rand() < SUMMARY_LINE_SHARE and transcripts:
            self._summary_line(conversation)
        turns = min(TURNS_MAX, 1 + int(rng.lognormvariate(math.log(TURNS_MEDIAN), TURNS_SIGMA)))
        self.telemetry.start_session(user, conversation.session_id, otel)
        t, complete = start_ms, True
        try:
            for turn in range(turns):
                t = self._turn(conversation, user, t, traits if turn == 0 else frozenset())
        except _Cutoff:
            complete = False
        # Lines without a requestId are never replayed: ccusage would count each copy (see the README).
        resumed = (
            complete
            and conversation.with_request_id
            and not traits & {"truncated", "empty_main"}
            and ("resume" in traits or rand() < RESUME_SHARE)
        )
        truncated = (
            transcripts
            and not resumed
            and "empty_main" not in traits
            and ("truncated" in traits or rand() < TRUNCATED_FILE_SHARE)
        )
        self._end_session(user, conversation, truncated, empty_main="empty_main" in traits)
        if resumed:
            self._resume(user, conversation, t + rng.randint(*RESUME_DELAY_S) * 1000, otel)

    def _resume(self, user: ClaudeCodeUser, earlier: _Conversation, t: int, otel: bool) -> None:
        """`claude --resume`: a new session file replays the earlier history under the new sessionId (same
        message ids and request ids, same timestamps), then the conversation goes on."""
        if t >= self.cutoff_ms:
            return
        rng = self.rng
        session_id = seeded_uuid(rng.getrandbits)
        conversation = _Conversation(
            session_id=session_id,
            cwd=earlier.cwd,
            version=earlier.version,
            branch=earlier.branch,
            model=earlier.model,
            base=earlier.base,
            one_hour=earlier.one_hour,
            threshold=earlier.threshold,
            lines=None if earlier.lines is None else [],
        )
        conversation.context = earlier.context  # the cache has expired meanwhile: cached stays 0
        if earlier.lines is not None:
            self._summary_line(conversation, leaf=earlier.parent.strip('"'))
            conversation.lines += [
                line.replace(earlier.session_id, session_id) for line in earlier.lines if earlier.session_id in line
            ]
            conversation.parent = earlier.parent
        self.telemetry.start_session(user, session_id, otel)
        try:
            for _ in range(rng.randint(*RESUME_TURNS)):
                t = self._turn(conversation, user, t, frozenset())
        except _Cutoff:
            pass
        self._end_session(user, conversation, truncated=False)

    def _turn(self, conversation: _Conversation, user: ClaudeCodeUser, t: int, traits: frozenset[str]) -> int:
        """The person's prompt and the agentic loop answering it; returns the time of the last line."""
        rng = self.rng
        rand = rng.random
        if conversation.last_ms:
            t += int(rng.lognormvariate(PROMPT_GAP_MU, PROMPT_GAP_SIGMA) * 1000)
        if t >= self.cutoff_ms:
            raise _Cutoff
        prompt_index = rng.randrange(len(PROMPT_TEXTS))
        prompt = PROMPT_TEXTS[prompt_index]
        turn_start = t
        if (
            conversation.lines is not None
            and conversation.writes_progress
            and ("queued" in traits or rand() < QUEUED_PROMPT_SHARE)
        ):
            self._queue_operations(conversation, t - rng.randint(2_000, 60_000), t, prompt)
        if conversation.lines is not None:
            if conversation.version in CC_VERSIONS:
                snapshot = seeded_uuid(rng.getrandbits)
                conversation.lines.append(
                    f'{{"type":"file-history-snapshot","messageId":"{snapshot}","snapshot":{{"messageId":'
                    f'"{snapshot}","trackedFileBackups":{{}},"timestamp":"{self.fmt(t)}"}},"isSnapshotUpdate":false}}'
                )
            self._user_line(conversation, t, f'"{prompt}"')
        text = f",{string_attribute('prompt', prompt)}" if user.logs_prompts else ""
        self.telemetry.record(t, "user_prompt", f"{int_attribute(rng, 'prompt_length', len(prompt))}{text}")
        if rand() < BACKGROUND_REQUEST_SHARE:  # a title or command check, in telemetry only
            self.telemetry.api_request(
                t + 400,
                BACKGROUND_MODEL,
                f"req_011C{rng.getrandbits(112):028x}",
                rng.randint(200, 1_500),
                rng.randint(5, 80),
                0,
                0,
                0,
            )
        if "synthetic" in traits or rand() < SYNTHETIC_ERROR_SHARE:
            t = self._api_error(conversation, t + rng.randint(10_000, 60_000))
        steps = min(STEPS_MAX, 1 + int(rng.lognormvariate(math.log(STEPS_MEDIAN), STEPS_SIGMA)))
        task = "subagent" in traits
        for step in range(steps):
            last = step == steps - 1 and not task
            typed = (
                1 + int(rng.lognormvariate(TYPED_INPUT_MU, TYPED_INPUT_SIGMA))
                if step == 0
                else rng.randint(*ROUTINE_INPUT_TOKENS)
            )
            t = self._request(
                conversation, user, t, typed, last=last, tool="Task" if task else None, subagent_traits=traits
            )
            task = False
        if "compaction" in traits:
            t = self._compact(conversation, user, t)
        if conversation.lines is not None and conversation.writes_progress:
            self._line(
                conversation,
                t,
                f'"type":"system","subtype":"turn_duration","durationMs":{t - turn_start},"isMeta":false',
            )
        return t

    def _request(
        self,
        conversation: _Conversation,
        user: ClaudeCodeUser,
        t: int,
        typed: int,
        *,
        last: bool,
        tool: str | None = None,
        subagent_traits: frozenset[str] = frozenset(),
    ) -> int:
        """One API request: its response lines (one per content block, the same usage on each, earlier lines
        of a streamed response with a partial output count), its telemetry record and the tool call's result."""
        rng = self.rng
        rand, bits = rng.random, rng.getrandbits
        if conversation.last_ms and t - conversation.last_ms > (3_600_000 if conversation.one_hour else 300_000):
            conversation.cached = conversation.base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
        model = conversation.model
        output = min(
            OUTPUT_MAX,
            1
            + int(
                rng.lognormvariate(
                    math.log(OUTPUT_MEDIAN * (OPUS_OUTPUT_FACTOR if "opus" in model else 1.0)), OUTPUT_SIGMA
                )
            ),
        )
        duration = FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
        t += duration
        if t >= self.cutoff_ms:
            raise _Cutoff
        read = conversation.cached
        creation = conversation.context - read
        one_hour = creation if conversation.one_hour else 0
        request_id, message_id = f"req_011C{bits(112):028x}", f"msg_01{bits(112):028x}"
        if not last and tool is None:
            tools, weights = (
                (SUBAGENT_TOOLS, SUBAGENT_TOOL_WEIGHTS) if conversation.sidechain else (CC_TOOLS, CC_TOOL_WEIGHTS)
            )
            tool = rng.choices(tools, weights)[0]
        if conversation.lines is not None:
            file = rng.randrange(len(SOURCE_FILES))
            blocks = []
            if rand() < THINKING_SHARE:
                blocks.append(
                    f'{{"type":"thinking","thinking":"{THOUGHT_TEXTS[file]}","signature":"{bits(256):064x}"}}'
                )
            if tool is None or rand() < TEXT_SHARE:
                blocks.append(f'{{"type":"text","text":"{RESPONSE_TEXTS[file]}"}}')
            if tool:
                blocks.append(
                    f'{{"type":"tool_use","id":"toolu_01{bits(112):028x}","name":"{tool}","input":'
                    f'{{"file_path":"{conversation.cwd_json}/{SOURCE_FILES[file]}"}}}}'
                )
            tokens = (typed, output, creation, one_hour, read)
            stop = "tool_use" if tool else "end_turn"
            self._response_lines(conversation, t, message_id, request_id, blocks, tokens, stop)
        self.telemetry.api_request(t, model, request_id, typed, output, creation - one_hour, one_hour, read, duration)
        conversation.cached = conversation.context + typed
        conversation.context += typed + output
        conversation.last_ms = t
        if tool == "Task":
            t = self._subagent(conversation, user, t, lost_file="lost_subagent_file" in subagent_traits)
        elif tool:
            t += min(TOOL_DURATION_MAX_MS, int(rng.lognormvariate(TOOL_DURATION_MU, TOOL_DURATION_SIGMA)))
        if tool:
            if t >= self.cutoff_ms:
                raise _Cutoff
            body, tokens = rng.choices(TOOL_RESULTS, TOOL_RESULT_LINE_WEIGHTS)[0]
            if conversation.lines is not None:
                self._user_line(
                    conversation,
                    t,
                    f'[{{"tool_use_id":"toolu_01{bits(112):028x}","type":"tool_result","content":"{body}"}}]',
                )
            duration = int_attribute(rng, "duration_ms", t - conversation.last_ms)
            self.telemetry.record(
                t,
                "tool_result",
                f"{string_attribute('tool_name', tool)},{string_attribute('success', 'true')},{duration}",
            )
            conversation.context += tokens
        if conversation.context > conversation.threshold:
            t = self._compact(conversation, user, t)
        return t

    def _compact(self, conversation: _Conversation, user: ClaudeCodeUser, t: int) -> int:
        """Auto-compaction into a summary; 2.1.x asks a compaction agent (a subagent file of one request
        reading the whole context) for it."""
        rng = self.rng
        if conversation.writes_progress and not conversation.sidechain:
            agent_id = f"acompact-{rng.getrandbits(24):06x}"
            lines = None if conversation.lines is None else []
            if lines is not None:
                conversation.subagent_files[agent_id] = lines
            agent = _Conversation(
                session_id=conversation.session_id,
                cwd=conversation.cwd,
                version=conversation.version,
                branch=conversation.branch,
                model=conversation.model,
                base=conversation.base,
                one_hour=conversation.one_hour,
                threshold=math.inf,
                lines=lines,
                agent_id=agent_id,
                sidechain=True,
            )
            agent.context, agent.cached = conversation.context, conversation.cached
            if lines is not None:
                self._user_line(agent, t + 50, '"Your task is to create a detailed summary of the conversation so far"')
            t = self._request(agent, user, t + rng.randint(200, 800), rng.randint(1, 6), last=True)
        if conversation.lines is not None:
            self._line(
                conversation,
                t,
                f'"type":"system","subtype":"compact_boundary","content":"Conversation '
                f'compacted","level":"info","compactMetadata":{{"trigger":"auto",'
                f'"preTokens":{conversation.context}}}',
            )
        conversation.context = conversation.base + rng.randint(*COMPACTION_SUMMARY)
        conversation.cached = conversation.base
        return t

    def _subagent(self, parent: _Conversation, user: ClaudeCodeUser, t: int, lost_file: bool = False) -> int:
        """A Task tool call: the subagent's lines carry the parent's sessionId and isSidechain; Claude Code 2.x
        writes them to <sessionId>/subagents/agent-<id>.jsonl, 1.x inline into the session file; 2.1.x also
        copies its responses into the parent file as agent_progress records. A `lost_file` is never written
        (deleted, or not collected): its agent_progress copies are all that is left of it."""
        rng = self.rng
        inline = parent.version not in CC_VERSIONS
        agent_id = None if inline else f"{rng.getrandbits(32):08x}"[1:]
        lines = None if parent.lines is None else (parent.lines if inline else [])
        if agent_id and lines is not None and not lost_file:
            parent.subagent_files[agent_id] = lines
        subagent = _Conversation(
            session_id=parent.session_id,
            cwd=parent.cwd,
            version=parent.version,
            branch=parent.branch,
            model=HAIKU_45 if rng.random() < SUBAGENT_HAIKU_SHARE else parent.model,
            base=rng.randint(*BASE_CONTEXT["cursor-agent"]),
            one_hour=False,
            threshold=COMPACTION_THRESHOLD,
            lines=lines,
            agent_id=agent_id,
            sidechain=True,
            progress_to=parent if parent.writes_progress and parent.lines is not None else None,
        )
        t += rng.randint(300, 1_500)
        if lines is not None:
            self._user_line(subagent, t, f'"{PROMPT_TEXTS[rng.randrange(len(PROMPT_TEXTS))]}"')
        steps = rng.randint(*SUBAGENT_STEPS)
        for step in range(steps):
            t = self._request(
                subagent, user, t + rng.randint(200, 3_000), rng.randint(*ROUTINE_INPUT_TOKENS), last=step == steps - 1
            )
        return t

    def _api_error(self, conversation: _Conversation, t: int) -> int:
        """The API failed (overloaded): Claude Code writes a `<synthetic>` stub with zero usage, then retries."""
        if t >= self.cutoff_ms:
            raise _Cutoff
        if conversation.lines is not None:
            self._line(
                conversation,
                t,
                f'"message":{{"id":"{seeded_uuid(self.rng.getrandbits)}","model":"<synthetic>",'
                '"role":"assistant","type":"message","stop_reason":"stop_sequence",'
                '"stop_sequence":"","usage":{"input_tokens":0,"output_tokens":0,'
                '"cache_creation_input_tokens":0,"cache_read_input_tokens":0},'
                '"content":[{"type":"text","text":"API Error: 529 Overloaded"}]},'
                '"type":"assistant","isApiErrorMessage":true',
            )
        self.telemetry.record(
            t,
            "api_error",
            f"{string_attribute('model', conversation.model)},"
            f"{string_attribute('error', 'Overloaded')},"
            f"{string_attribute('status_code', '529')}",
        )
        return t + self.rng.randint(2_000, 20_000)

    # ---- transcript lines ---------------------------------------------------------------------------------

    def _line(self, conversation: _Conversation, t: int, body: str) -> None:
        uuid = seeded_uuid(self.rng.getrandbits)
        conversation.lines.append(
            f'{{"parentUuid":{conversation.parent},{conversation.prefix},{body},'
            f'"uuid":"{uuid}","timestamp":"{self.fmt(t)}"}}'
        )
        conversation.parent = f'"{uuid}"'

    def _user_line(self, conversation: _Conversation, t: int, content: str) -> None:
        self._line(conversation, t, f'"type":"user","message":{{"role":"user","content":{content}}}')

    def _queue_operations(self, conversation: _Conversation, queued: int, dequeued: int, prompt: str) -> None:
        """A prompt typed while Claude was busy (2.1.x): enqueued with its text, dequeued when its turn came."""
        head = '{"type":"queue-operation","operation":'
        conversation.lines.append(
            f'{head}"enqueue","timestamp":"{self.fmt(queued)}",'
            f'"sessionId":"{conversation.session_id}","content":"{prompt}"}}'
        )
        conversation.lines.append(
            f'{head}"dequeue","timestamp":"{self.fmt(dequeued)}","sessionId":"{conversation.session_id}"}}'
        )

    def _summary_line(self, conversation: _Conversation, leaf: str | None = None) -> None:
        summary, leaf = escaped(self.rng.choice(SUMMARIES)), leaf or seeded_uuid(self.rng.getrandbits)
        conversation.lines.append(f'{{"type":"summary","summary":"{summary}","leafUuid":"{leaf}"}}')

    def _response_lines(self, conversation, t, message_id, request_id, blocks, tokens, stop) -> None:
        typed, output, creation, one_hour, read = tokens
        split = (
            ""
            if conversation.version == NO_REQUEST_ID_VERSION
            else (
                f',"cache_creation":{{"ephemeral_5m_input_tokens":{creation - one_hour},'
                f'"ephemeral_1h_input_tokens":{one_hour}}}'
            )
        )
        head = (
            f'"message":{{"model":"{conversation.model}","id":"{message_id}","type":"message","role":"assistant",'
            f'"content":['
        )
        tail = ',"service_tier":"standard"'
        if conversation.writes_progress:
            server_tools = (
                ""
                if conversation.sidechain
                else (',"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0}')
            )
            tail = f'{server_tools}{tail},"inference_geo":"{self.rng.choice(INFERENCE_GEOS)}"'
        # As real 2.1 files show, the parent gets a copy of each line of a response but its first.
        copies = (
            conversation.progress_to
            if conversation.progress_to is not None and len(blocks) > 1 and (self.rng.random() < AGENT_PROGRESS_SHARE)
            else None
        )
        usage = (
            f'"usage":{{"input_tokens":{typed},"cache_creation_input_tokens":{creation},'
            f'"cache_read_input_tokens":{read}{split},"output_tokens":'
        )
        if not conversation.with_request_id:  # one line per response, and the old costUSD field
            cost = cost_usd(conversation.model, typed, output, creation, 0, read)
            self._line(
                conversation,
                t,
                f'{head}{",".join(blocks)}],"stop_reason":"{stop}","stop_sequence":null,'
                f'{usage}{output}}}}},"type":"assistant","costUSD":{cost!r}',
            )
            return
        streamed = len(blocks) > 1 and output >= 2 * len(blocks) and self.rng.random() < STREAMED_SHARE
        for index, block in enumerate(blocks):
            final = index == len(blocks) - 1
            partial = output if final or not streamed else output * (index + 1) // (len(blocks) + 1)
            at = t if final or not streamed else t - (len(blocks) - 1 - index) * STREAM_STEP_MS
            reason = f'"{stop}"' if final else "null"
            message = (
                f'{head}{block}],"stop_reason":{reason},"stop_sequence":null,{usage}{partial}{tail}}}}},'
                f'"requestId":"{request_id}"'
            )
            self._line(conversation, at, f'{message},"type":"assistant"')
            if copies is not None and index > 0:
                self._line(
                    copies,
                    at,
                    f'"type":"progress","data":{{"message":{{"type":"assistant",'
                    f'"timestamp":"{self.fmt(at)}",{message},'
                    f'"uuid":"{seeded_uuid(self.rng.getrandbits)}"}},"normalizedMessages":[],'
                    f'"type":"agent_progress","agentId":"{conversation.agent_id}"}},'
                    f'"toolUseID":"agent_{message_id}"',
                )

    # ---- files --------------------------------------------------------------------------------------------

    def _end_session(
        self, user: ClaudeCodeUser, conversation: _Conversation, truncated: bool, empty_main: bool = False
    ) -> None:
        if conversation.lines is not None and conversation.parent != "null":  # at least one real line
            folder = self.transcripts_root / user.email / "projects" / _ENCODED_PATH.sub("-", conversation.cwd)
            if truncated:  # the last line was half-written when Claude Code died
                conversation.lines[-1] = conversation.lines[-1][: len(conversation.lines[-1]) * 3 // 5]
            # an empty main file next to non-empty subagent files, as real corpora hold
            main_lines = [] if empty_main else conversation.lines
            self._write_transcript(folder / f"{conversation.session_id}.jsonl", main_lines, not truncated)
            for agent_id, lines in conversation.subagent_files.items():
                if lines:
                    path = folder / conversation.session_id / "subagents" / f"agent-{agent_id}.jsonl"
                    self._write_transcript(path, lines, True)
            self.counts["transcript_sessions"] += 1
            self.collected.add(user.email)
        self.telemetry.end_session(user)

    def _write_transcript(self, path: Path, lines: list[str], complete: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\n".join(lines) + ("\n" if complete and lines else "")).encode("utf-8"))
        self.counts["transcript_files"] += 1
        self.counts["transcript_lines"] += len(lines)


def remove_previous_claude_code_output(raw_dir: Path, sources) -> None:
    """Only what this generator writes: the sample emails' collected folders and the sample collector."""
    if "claude_code" in sources and (raw_dir / "claude_code").is_dir():
        domains = tuple(f"@{org.email_domain}" for org in (MAIN_ORG, SECOND_ORG))
        for folder in sorted((raw_dir / "claude_code").iterdir()):
            if folder.is_dir() and (folder.name.endswith(domains) or folder.name == OUTSIDE_EMAIL):
                shutil.rmtree(folder)
    if "otel" in sources and (raw_dir / "otel" / OTEL_COLLECTOR).is_dir():
        shutil.rmtree(raw_dir / "otel" / OTEL_COLLECTOR)
