"""Platform events: a session plan's event lines (token usage following a growing, cached context) and their
messy delivery into `<raw_dir>/platform/<delivery date>/ingest-NN.jsonl[.gz]`: late, duplicated and
redelivered lines, gzip, CRLF, BOM, blank lines and empty files."""

from __future__ import annotations

import datetime
import json
import math
import random
import zoneinfo
from collections.abc import Iterable
from pathlib import Path

from orchestration.sample.bad_lines import corrupt
from orchestration.sample.clock import DAY_MS, day_prefix, epoch_day, from_epoch_day, utc_formatter
from orchestration.sample.draws import seeded_uuid
from orchestration.sample.encoding import write_gzip
from orchestration.sample.models import (
    BASE_CONTEXT,
    CACHE_WRITING_MODELS,
    COMPACTION_SUMMARY,
    COMPACTION_THRESHOLD,
    FIRST_TOKEN_MS,
    LONG_BASE_CONTEXT,
    LONG_CONTEXT_COMPACTION_THRESHOLD,
    MS_PER_OUTPUT_TOKEN,
    ONE_HOUR_ONLY_SHARE,
    OPUS_OUTPUT_FACTOR,
    OUTPUT_MAX,
    OUTPUT_MEDIAN,
    OUTPUT_SIGMA,
    ROUTINE_INPUT_TOKENS,
    SIDE_REQUEST_SHARE,
    TOOL_DURATION_MAX_MS,
    TOOL_DURATION_MU,
    TOOL_DURATION_SIGMA,
    TOOL_RESULT_MAX,
    TOOL_RESULT_MEDIAN,
    TOOL_RESULT_SIGMA,
    TYPED_INPUT_MU,
    TYPED_INPUT_SHARE,
    TYPED_INPUT_SIGMA,
    WARM_SYSTEM_PROMPT_SHARE,
)
from orchestration.sample.orgs import UNKNOWN_USER_ID
from orchestration.sample.people import Person
from orchestration.sample.platform_plans import SessionPlan, natural_plans, showcase_plans
from orchestration.sample.prices import cost_usd

PAUSE_SHARE, PAUSE_SECONDS = 0.08, (60, 1_500)  # the user reads, thinks, goes to a meeting
GAP_MEDIAN_S, GAP_SIGMA = 6.0, 0.9
TOOL_CALL_SHARE, TOOL_FAILURE_SHARE = 0.55, 0.06
TOOL_NAMES = ("Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "WebFetch")
TOOL_WEIGHTS = (30, 25, 20, 10, 6, 5, 3, 1)
HEARTBEAT_MS = 300_000
SHARDS_PER_DELIVERY = 3
LATE_DELIVERY_SHARE = 0.08  # delivered the day after the event's UTC date
REDELIVERY_SHARE = 0.02  # byte-identical copy in a later delivery folder
REDELIVERY_MAX_LAG_DAYS = 3
SAME_FILE_DUPLICATE_SHARE = 0.01
CRLF_SHARE, BOM_SHARE, EMPTY_FILE_SHARE, BLANK_LINE_SHARE = 0.10, 0.06, 0.08, 0.12
FILE_TRAITS = ("bom", "crlf", "gzip", "empty", "blank")  # each guaranteed in at least one delivery


def write_platform(
    raw_dir: Path,
    people: list[Person],
    dates: list[datetime.date],
    *,
    seed,
    gzip_share,
    planted: dict[datetime.date, list[SessionPlan]] | None = None,
    tracked: Iterable[Person] = (),
    spend: dict[tuple[str, datetime.date], float] | None = None,
) -> dict:
    """Write the delivery folders. `planted`: extra sessions by local date (the planted anomaly). `spend` collects
    the list-price cost of the `tracked` people's requests, by (user id, local date): the sample's budgets are set
    from it."""
    start_date, end_date = dates[0], dates[-1]
    _remove_previous_output(raw_dir / "platform")
    showcase = showcase_plans(random.Random(f"{seed}:showcase"), people, dates)
    writer = _DeliveryWriter(
        raw_dir / "platform",
        random.Random(f"{seed}:delivery"),
        start_date,
        end_date,
        gzip_share,
    )
    writer.tracked = {person.user_id: person.org.timezone for person in tracked}
    activity_rng = random.Random(f"{seed}:activity")
    directory_people = [p for p in people if p.user_id != UNKNOWN_USER_ID]
    for local_date in dates:
        for plan in natural_plans(activity_rng, directory_people, local_date):
            writer.emit(plan)
        for plan in showcase.get(local_date, ()):
            writer.emit(plan)
        for plan in (planted or {}).get(local_date, ()):
            writer.emit(plan)
        # Later local days start after this date's UTC midnight (local midnight is at most UTC+14 hours ahead
        # and sessions start after 7:00), and deliveries never precede the event: older folders are complete.
        writer.flush_before(epoch_day(local_date))
    writer.flush_before(epoch_day(end_date) + 2)
    if spend is not None:
        spend.update(writer.spend)
    return writer.summary()


class _DeliveryWriter:
    """Turns session plans into event lines, routes each line to a delivery folder and shard file, and writes
    folders once complete. All messy-delivery decisions are made here."""

    def __init__(self, root: Path, rng: random.Random, start: datetime.date, end: datetime.date, gzip_share: float):
        self.root, self.rng, self.gzip_share = root, rng, gzip_share
        self.start_date, self.end_date = start, end
        self.first_folder = epoch_day(start)
        self.last_folder = epoch_day(end) + 1  # deliveries never come from the future
        self.cutoff_ms = (epoch_day(end) + 1) * DAY_MS  # events after the end date are not sent yet
        self.buffers: dict[int, list[list[str]]] = {}
        self.day_prefix: dict[int, str] = {}
        self.flushed_before = -1
        self.counts = dict.fromkeys(
            (
                "sessions",
                "model_requests",
                "unique_events",
                "duplicate_lines",
                "bad_lines",
                "blank_lines",
                "files",
                "delivery_folders",
            ),
            0,
        )
        # Every file trait appears at least once: pinned to a random workday folder each.
        core = [d for d in range(self.first_folder, self.last_folder) if from_epoch_day(d).weekday() < 5]
        core = core or list(range(self.first_folder, self.last_folder))
        self.showcase_folder = {trait: rng.choice(core) for trait in FILE_TRAITS}
        self.tracked: dict[str, str] = {}  # user id -> time zone, of the users whose spend is collected
        self.spend: dict[tuple[str, datetime.date], float] = {}

    # ---- events -------------------------------------------------------------------------------------------

    def emit(self, plan: SessionPlan) -> None:
        """Generate one session's events (token usage follows a growing, cached context) and route them."""
        if plan.start_ms >= self.cutoff_ms:  # starts after the snapshot: nothing sent yet
            return
        rng = self.rng
        rand, lognorm, bits, randint = rng.random, rng.lognormvariate, rng.getrandbits, rng.randint
        fmt = self._formatter(plan.offset_minutes)
        session_id = seeded_uuid(bits)
        head = '{"schema_version":1,"event_id":"'
        middle = f'","org_id":"{plan.org_id}","session_id":"{session_id}","timestamp":"'
        cache_writes = plan.model in CACHE_WRITING_MODELS
        split, model, side_model = plan.cache_split, plan.model, plan.side_model
        opus = OPUS_OUTPUT_FACTOR if "opus" in model else 1.0
        out_mu, tool_mu, gap_mu = math.log(OUTPUT_MEDIAN * opus), math.log(TOOL_RESULT_MEDIAN), math.log(GAP_MEDIAN_S)
        ttl_ms = 3_600_000 if split == "1h" else 300_000

        t0 = t = plan.start_ms
        repository = "null" if plan.repository is None else f'"{plan.repository}"'
        started = (
            f'{head}{seeded_uuid(bits)}","event_type":"session_started{middle}{fmt(t)}","user_id":"{plan.user_id}",'
            f'"agent":"{plan.agent}","agent_version":"{plan.agent_version}",'
            f'"project_id":"{plan.project_id}","repository":{repository}}}'
        )
        events: list[tuple[int, str]] = []
        requests = 0
        low, high = LONG_BASE_CONTEXT if plan.long_context else BASE_CONTEXT[plan.agent]
        base = randint(low, high)
        context = base
        cached = base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
        threshold = LONG_CONTEXT_COMPACTION_THRESHOLD if plan.long_context else COMPACTION_THRESHOLD
        t += randint(1_500, 25_000)
        for index in range(plan.requests):
            if index:  # agent work, tool runs and the occasional human pause between requests
                gap = randint(*PAUSE_SECONDS) * 1000 if rand() < PAUSE_SHARE else int(lognorm(gap_mu, GAP_SIGMA) * 1000)
                if gap > ttl_ms:  # the prompt cache expired meanwhile; maybe the system prompt is warm elsewhere
                    cached = base if rand() < WARM_SYSTEM_PROMPT_SHARE else 0
                t += gap
            if side_model and rand() < SIDE_REQUEST_SHARE:  # a small uncached background request just before
                events.append(
                    (
                        t - 700,
                        f'{head}{seeded_uuid(bits)}","event_type":"model_request{middle}{fmt(t - 700)}",'
                        f'"request_id":"req_{bits(96):024x}","model":"{side_model}","usage":{{"input_tokens":'
                        f'{randint(80, 1_500)},"output_tokens":{randint(5, 80)},'
                        '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}',
                    )
                )
                requests += 1
            # The prompt is the context so far (cached prefix + written to cache) plus a few new typed tokens.
            output = min(OUTPUT_MAX, 1 + int(lognorm(out_mu, OUTPUT_SIGMA)))
            if rand() < TYPED_INPUT_SHARE:
                typed = 1 + int(lognorm(TYPED_INPUT_MU, TYPED_INPUT_SIGMA))
            else:
                typed = randint(*ROUTINE_INPUT_TOKENS)
            t += FIRST_TOKEN_MS + output * MS_PER_OUTPUT_TOKEN
            if cache_writes:
                input_tokens, creation, read = typed, context - cached, cached
            else:  # automatic prompt caching without cache writes
                input_tokens, creation, read = typed + context - cached, 0, cached
            if split == "none":
                usage_split = ""
            else:
                one_hour = 0 if split == "5m" else creation if rand() < ONE_HOUR_ONLY_SHARE else int(creation * rand())
                usage_split = (
                    f',"cache_creation":{{"ephemeral_5m_input_tokens":{creation - one_hour},'
                    f'"ephemeral_1h_input_tokens":{one_hour}}}'
                )
            request_id = f"req_{bits(96):024x}"
            events.append(
                (
                    t,
                    f'{head}{seeded_uuid(bits)}","event_type":"model_request{middle}{fmt(t)}",'
                    f'"request_id":"{request_id}","model":"{model}","usage":{{"input_tokens":{input_tokens},'
                    f'"output_tokens":{output},"cache_creation_input_tokens":{creation},'
                    f'"cache_read_input_tokens":{read}{usage_split}}}}}',
                )
            )
            requests += 1
            cached = context
            context += typed + output
            if rand() < TOOL_CALL_SHARE:
                duration = min(TOOL_DURATION_MAX_MS, int(lognorm(TOOL_DURATION_MU, TOOL_DURATION_SIGMA)))
                t += duration
                tool = rng.choices(TOOL_NAMES, TOOL_WEIGHTS)[0]
                success = "false" if rand() < TOOL_FAILURE_SHARE else "true"
                events.append(
                    (
                        t,
                        f'{head}{seeded_uuid(bits)}","event_type":"tool_call{middle}{fmt(t)}",'
                        f'"request_id":"{request_id}","tool_name":"{tool}","duration_ms":{duration},'
                        f'"success":{success}}}',
                    )
                )
                context += min(TOOL_RESULT_MAX, int(lognorm(tool_mu, TOOL_RESULT_SIGMA)))
            if context > threshold:  # the agent compacts the conversation into a summary
                context, cached = base + randint(*COMPACTION_SUMMARY), base
        if plan.end_status:
            t += randint(1_000, 60_000)
            events.append(
                (
                    t,
                    f'{head}{seeded_uuid(bits)}","event_type":"session_ended{middle}{fmt(t)}",'
                    f'"status":"{plan.end_status}"}}',
                )
            )
        for beat in range(1, (t - t0) // HEARTBEAT_MS + 1):
            at = min(t - 1, t0 + beat * HEARTBEAT_MS + randint(0, 2_000))
            events.append((at, f'{head}{seeded_uuid(bits)}","event_type":"heartbeat{middle}{fmt(at)}","seq":{beat}}}'))

        if t >= self.cutoff_ms:  # still running at the cutoff: later events are not sent yet
            events = [event for event in events if event[0] < self.cutoff_ms]
            requests = sum('"event_type":"model_request"' in line for _, line in events)
        self.counts["sessions"] += 1
        self.counts["model_requests"] += requests
        if plan.user_id in self.tracked:
            self._add_spend(plan.user_id, events)
        bad_lines = [corrupt(rng, kind, copy, started, events) for kind, copy in plan.bad_kinds]
        self._route(events, (t0, started), plan.late_start)
        for line in bad_lines:  # extra lines beside the good copy, in the session's first delivery
            self._open_folder(t0 // DAY_MS)[int(rand() * SHARDS_PER_DELIVERY)].append(line)
        self.counts["bad_lines"] += len(bad_lines)

    def _add_spend(self, user_id: str, events: list[tuple[int, str]]) -> None:
        """The list-price cost of a session's requests, by local request date (read back from the lines: only the
        few tracked users pay for it)."""
        zone = zoneinfo.ZoneInfo(self.tracked[user_id])
        for at, line in events:
            if '"event_type":"model_request"' not in line:
                continue
            event = json.loads(line)
            usage = event["usage"]
            split = usage.get("cache_creation") or {}
            one_hour = split.get("ephemeral_1h_input_tokens", 0)
            cost = cost_usd(
                event["model"],
                usage["input_tokens"],
                usage["output_tokens"],
                usage["cache_creation_input_tokens"] - one_hour,
                one_hour,
                usage["cache_read_input_tokens"],
            )
            day = datetime.datetime.fromtimestamp(at / 1000, zone).date()
            self.spend[user_id, day] = self.spend.get((user_id, day), 0.0) + cost

    def _route(self, events: list[tuple[int, str]], start: tuple[int, str], late_start: bool) -> None:
        """Delivery folder (event's UTC date or a day late), shard, and the occasional duplicate copy."""
        rand, last, buffers, counts = self.rng.random, self.last_folder, self.buffers, self.counts
        latest = self.first_folder
        for position, (at, line) in enumerate((*events, start)):
            folder = at // DAY_MS
            if position == len(events) and late_start:  # the start arrives a day after everything else
                folder = max(folder, latest) + 1
            elif rand() < LATE_DELIVERY_SHARE:
                folder += 1
            folder = min(folder, last)
            latest = max(latest, folder)
            shard = (buffers.get(folder) or self._open_folder(folder))[int(rand() * SHARDS_PER_DELIVERY)]
            shard.append(line)
            copy = rand()
            if copy < SAME_FILE_DUPLICATE_SHARE:
                shard.append(line)
            elif copy < SAME_FILE_DUPLICATE_SHARE + REDELIVERY_SHARE:
                later = min(last, folder + 1 + int(rand() * REDELIVERY_MAX_LAG_DAYS))
                (buffers.get(later) or self._open_folder(later))[int(rand() * SHARDS_PER_DELIVERY)].append(line)
            else:
                continue
            counts["duplicate_lines"] += 1
        counts["unique_events"] += len(events) + 1

    def _open_folder(self, folder: int) -> list[list[str]]:
        """The folder's shard buffers, created on first use."""
        shards = self.buffers.get(folder)
        if shards is None:
            if folder < self.flushed_before:  # a bug in the day ordering, not bad input
                raise AssertionError(f"delivery {from_epoch_day(folder)} was already written")
            shards = self.buffers[folder] = [[] for _ in range(SHARDS_PER_DELIVERY)]
        return shards

    def _formatter(self, offset_minutes: int | None):
        """RFC 3339 timestamp of epoch milliseconds: `...T09:14:03.120Z`, or local time with a numeric offset
        and whole seconds (the same instant, truncated to the second)."""
        if offset_minutes is None:
            return utc_formatter(self.day_prefix)
        prefix = day_prefix(self.day_prefix)
        sign = "+" if offset_minutes >= 0 else "-"
        suffix = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"

        def with_offset(ms: int) -> str:
            day, rest = divmod(ms + offset_minutes * 60_000, DAY_MS)
            seconds = rest // 1000
            hours, seconds = divmod(seconds, 3600)
            minutes, seconds = divmod(seconds, 60)
            return f"{prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}{suffix}"

        return with_offset

    # ---- files --------------------------------------------------------------------------------------------

    def flush_before(self, folder_limit: int) -> None:
        """Write every delivery folder older than `folder_limit`; no later session can reach them."""
        pinned = {f for f in self.showcase_folder.values() if self.flushed_before <= f < folder_limit}
        for folder in sorted({f for f in self.buffers if f < folder_limit} | pinned):
            shards = self.buffers.pop(folder, None) or [[] for _ in range(SHARDS_PER_DELIVERY)]
            self._write_folder(folder, shards)
        self.flushed_before = max(self.flushed_before, folder_limit)

    def _write_folder(self, folder: int, shards: list[list[str]]) -> None:
        """Shuffle each shard and write it with its file traits (gzip, CRLF, BOM, blank lines). Traits pinned to
        this folder go to fixed shards so they never collide; the pinned BOM and CRLF files stay uncompressed."""
        rand, rng = self.rng.random, self.rng
        pinned = {trait for trait, day in self.showcase_folder.items() if day == folder}
        path = self.root / from_epoch_day(folder).isoformat()
        path.mkdir(parents=True, exist_ok=True)
        self.counts["delivery_folders"] += 1
        for index, lines in enumerate(shards):
            rng.shuffle(lines)
            pinned_bom, pinned_crlf = index == 0 and "bom" in pinned, index == 1 and "crlf" in pinned
            gz = self.gzip_share > 0 and (rand() < self.gzip_share or (index == 2 and "gzip" in pinned))
            gz = gz and not (pinned_bom or pinned_crlf)
            crlf = rand() < CRLF_SHARE or pinned_crlf
            bom = not gz and (rand() < BOM_SHARE or pinned_bom)
            if lines and (rand() < BLANK_LINE_SHARE or (index == 0 and "blank" in pinned)):
                lines.insert(rng.randrange(len(lines) + 1), "")
                self.counts["blank_lines"] += 1
            newline = "\r\n" if crlf else "\n"
            text = ("\ufeff" if bom else "") + newline.join(lines) + (newline if lines else "")
            self._write_file(path / f"ingest-{index:02d}.jsonl", text.encode("utf-8"), gz)
        if rand() < EMPTY_FILE_SHARE or "empty" in pinned:  # an ingest shard that received nothing
            self._write_file(path / f"ingest-{SHARDS_PER_DELIVERY:02d}.jsonl", b"", False)

    def _write_file(self, path: Path, data: bytes, gz: bool) -> None:
        if gz:
            write_gzip(path.with_name(path.name + ".gz"), data)
        else:
            path.write_bytes(data)
        self.counts["files"] += 1

    def summary(self) -> dict[str, int]:
        return self.counts | {"events_written": self.counts["unique_events"] + self.counts["duplicate_lines"]}


def _remove_previous_output(root: Path) -> None:
    """Regenerating replaces the previous sample instead of mixing with it; only our own file names go."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and len(folder.name) == 10:
            for path in folder.glob("ingest-*.jsonl*"):
                path.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
