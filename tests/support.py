"""Helpers for tests that build a real warehouse: write raw files, run the loaders and a real dbt build."""

from __future__ import annotations

import email
import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestration.config import Paths
from orchestration.defs.resources import publish_lake_views
from orchestration.ingest import agent_logs, claude_code, directory, otel, platform
from orchestration.publish import publish_warehouse, working_warehouse_ready

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO / "dbt_project"


def test_paths(root: Path) -> Paths:
    return Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )


def write_delivery(
    raw_dir: Path, delivery_date: str, name: str, events: Iterable[dict | str], gz: bool = False
) -> Path:
    """Write events (dicts as JSON, strings as they are) as one JSON Lines file of a delivery folder."""
    folder = raw_dir / "platform" / delivery_date
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)
    path = folder / (name + (".jsonl.gz" if gz else ".jsonl"))
    if gz:
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_directory(directory_dir: Path, orgs: list[tuple], users: list[tuple], projects: list[tuple]) -> None:
    """orgs: (org_id, name, tz); users: (org_id, user_id, email, name, team, manager_id, role[, email_reports]);
    projects: (org_id, project_id, name, kind). The optional email_reports column is written when some user
    tuple has it (empty for the others)."""
    directory_dir.mkdir(parents=True, exist_ok=True)
    user_header = "org_id,user_id,email,name,team,manager_id,role"
    if any(len(user) > 7 for user in users):
        user_header += ",email_reports"
        users = [(*user, "")[:8] for user in users]
    for file_name, header, rows in (
        ("orgs.csv", "org_id,name,timezone", orgs),
        ("users.csv", user_header, users),
        ("projects.csv", "org_id,project_id,name,kind", projects),
    ):
        lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
        (directory_dir / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def usage(inp, out, write=0, read=0, split=None) -> dict:
    """A platform `usage` object: input, output, cache write and cache read tokens, and the 5m/1h split."""
    body = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    }
    if split:
        body["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    return body


def build_warehouse(paths: Paths, dbt_command: str = "build") -> subprocess.CompletedProcess:
    """Load every source (platform deliveries, transcripts, OTel, the other agents' logs) and the directory, then run a real
    `dbt build` on the working warehouse, published to `paths.warehouse` as a refresh does."""
    platform.load_deliveries(paths.raw_dir, paths.lake_dir, platform.delivery_dates(paths.raw_dir))
    claude_code.load_all(paths.raw_dir, paths.lake_dir)
    otel.load_all(paths.raw_dir, paths.lake_dir)
    agent_logs.load_every_format(paths.raw_dir, paths.lake_dir)
    directory.load_directory(paths.directory, paths.lake_dir)
    publish_lake_views(paths)
    return run_dbt(paths, dbt_command)


def run_dbt(paths: Paths, *args: str) -> subprocess.CompletedProcess:
    """Run dbt on the working warehouse (a copy of the published one after a publish moved it); publish it
    when dbt succeeds."""
    working_warehouse_ready(paths)
    env = {
        **os.environ,
        "SESSION_ANALYTICS_WAREHOUSE": str(paths.warehouse),
        "SESSION_ANALYTICS_WORKING_WAREHOUSE": str(paths.working_warehouse),
    }
    target = paths.warehouse.parent / "dbt-target"
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-2000:]}")
    publish_warehouse(paths)
    return completed


def assert_no_content_stored(paths: Paths, texts: Iterable[str]) -> None:
    """No text of `texts` (prompts, responses, tool content of the raw files) is in the warehouse or a lake file;
    and the check itself can fail: the raw files do hold every text."""
    texts = list(texts)
    for path in [paths.warehouse, *paths.lake_dir.rglob("*.parquet")]:
        data = path.read_bytes()
        for text in texts:
            assert text.encode() not in data, f"{text!r} found in {path}"
    raw = b"".join(p.read_bytes() for p in paths.raw_dir.rglob("*") if p.is_file() and not p.is_symlink())
    assert all(text.encode() in raw for text in texts)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for test servers)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


test_paths.__test__ = False  # a helper, not a test, although its name starts with test_


class RecordingSmtpHandler:
    """An aiosmtpd handler that keeps what arrives. `script` lists what to do with the next DATA commands
    ('ok', a reply code such as '451' or '554', or 'drop' to close the connection); recipients in `refuse` are
    refused at RCPT, with the reply given (a mapping) or 550."""

    def __init__(self, script: Iterable[str] = (), refuse: Iterable[str] | Mapping[str, str] = ()):
        self.script = list(script)
        self.refuse = dict(refuse) if isinstance(refuse, Mapping) else dict.fromkeys(refuse, "550 5.1.1 no such user")
        self.messages: list[tuple[list[str], email.message.Message]] = []
        self.data_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        action = self.script.pop(0) if self.script else "ok"
        if action == "drop":
            server.transport.close()
            return "421 closing"
        if action != "ok":
            return f"{action} scripted failure"
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"
