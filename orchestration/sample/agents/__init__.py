"""Sample local logs of the other coding agents (Codex CLI, Gemini CLI, Copilot CLI), one module per agent, for
`session-analytics generate-sample`: real-format files under `<raw-dir>/<source>/<email>/`, for people who also
use Claude Code (so the reports show one person's several agents) and for people who do not."""

from __future__ import annotations

import datetime
import importlib
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestration.ingest import lake


@dataclass(frozen=True)
class SampleUser:
    email: str
    timezone: str
    checkouts: tuple[str, ...]  # working directories, the usual one first
    repositories: tuple[str, ...]  # "owner/name" of each checkout, same order
    activity: float  # 0..1: how busy they are


SOURCES = lake.AGENT_LOG_SOURCES
USERS_PER_SOURCE = 5
# Where each agent's users start in the list of candidates: consecutive agents share two people, so some use
# three agents, and the Claude Code users come first in the list.
USER_OFFSETS = {"codex": 0, "gemini": 3, "copilot": 6}


def write_agent_logs(
    raw_dir: Path, sources: tuple[str, ...], candidates: list[SampleUser], dates: list[datetime.date], seed
) -> dict[str, int]:
    """Each chosen agent's sample files (replacing the earlier sample output of its users); requests written."""
    written = {}
    for source in (source for source in SOURCES if source in sources):
        module = importlib.import_module(f"orchestration.sample.agents.{source}")
        start = USER_OFFSETS[source] % max(1, len(candidates))
        users = (candidates[start:] + candidates[:start])[:USERS_PER_SOURCE]
        for user in users:
            shutil.rmtree(raw_dir / source / user.email, ignore_errors=True)
        written[source] = module.write_sample(raw_dir, users, dates, random.Random(f"{seed}:{source}"))
    return written


def random_uuid4(rng: random.Random) -> str:
    """A version-4 UUID from the seeded generator, as Gemini CLI and Copilot CLI name sessions and messages."""
    return "%08x-%04x-4%03x-%04x-%012x" % (
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(12),
        0x8000 | rng.getrandbits(14),
        rng.getrandbits(48),
    )
