"""`session-analytics collect` and the upload receiver (`serve --accept-uploads`), end to end.

Two laptops (ana, ben of acme, Europe/Berlin), each a home folder with the agents' folders as they lie on a laptop
(~/.claude, ~/.copilot, ~/.gemini, ~/.codex: copies of the fixtures of each source). The real server runs in its
own process on loopback; ana's collector runs as the command with her HOME (the default folders), ben's in this
process through --home-like settings, recording what it sends. After a real `session-analytics refresh`, each
user's per-day per-model tokens equal ccusage's on that user's ORIGINAL files.

ben's Claude Code transcripts (tests/fixtures/collector/ben@acme.example/claude, hand-written), worked out by
hand, Berlin days, as uncached input / output / cache write / cache read:
  2026-11-20 sonnet-4-5: 3 + 5 = 8 / 187 + 420 = 607 (msg_ben_0001's streamed partial of 12 is a copy of its
    final line) / 2,048 / 11,000 + 13,048 = 24,048; haiku-4-5 40 / 15 / 0 / 9,000 (only in an agent_progress
    record: the subagent's file is gone)
  2026-11-21 (23:30 UTC on the 20th): haiku-4-5 8 / 64 / 1,024 / 4,096 (the last line, cut mid-write, is not
    counted); sonnet-4-5 2 / 33 / 500 / 6,000 (a subagent file)
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from orchestration.bench.ccusage_parity import (
    TOKEN_KINDS,
    agent_ccusage_daily_of,
    agent_warehouse_daily,
    ccusage_command,
    ccusage_daily_of,
    warehouse_daily,
)
from orchestration.cli import main as cli_main
from orchestration.collection import collector
from orchestration.ingest import agent_logs, claude_code, lake
from reports.api.tokens import TokenStore
from tests.fixtures import FIXTURES_DIR
from tests.fixtures.servers import free_port
from tests.fixtures.warehouse import build_warehouse, test_paths, write_directory

FIXTURES = FIXTURES_DIR
REAL_CLAUDE = FIXTURES / "claude_code_real" / "developer@spotter.example"
BEN_CLAUDE = FIXTURES / "collector" / "ben@acme.example" / "claude"
TIMEZONE = "Europe/Berlin"
ORG = "acme"
USERS = {"ana": "ana@acme.example", "ben": "ben@acme.example"}
UPLOAD_LIMIT = 2_000_000
# Content of the real transcripts (a tool call in an agent_progress record, a tool result) and markers of the
# hand-written fixtures: SECRET-<kind>-<source>.
REAL_CONTENT = ("git log --oneline -10", "The format matches the existing beads")
MARKER = re.compile(rb"SECRET[-A-Za-z0-9_]*")
SON, HAI = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"


# -- the world: a published warehouse, the real server, two laptops --------------------------------------------------


def agent_fixture_home(source: str, user: str, email: str) -> Path | None:
    """A source's fixture folder of one user, laid out as the agent's folder (tests/fixtures/<source>/<email>,
    .../homes/<email> or .../<user>), when that source's fixtures have landed."""
    for candidate in (FIXTURES / source / email, FIXTURES / source / "homes" / email, FIXTURES / source / user):
        if candidate.is_dir():
            return candidate
    return None


def original_homes() -> dict[str, dict[str, Path]]:
    """user -> source -> the original agent folder that user's laptop has."""
    homes = {"ana": {"claude_code": REAL_CLAUDE}, "ben": {"claude_code": BEN_CLAUDE}}
    for fmt in agent_logs.formats():
        for user, email in USERS.items():
            found = agent_fixture_home(fmt.source, user, email)
            if found is not None:
                homes[user][fmt.source] = found
    return homes


def local_home_name(source: str) -> str:
    fmt = next(fmt for fmt in collector.collected_formats() if fmt.source == source)
    return fmt.local_home.removeprefix("~/")


def command_environment(**extra: str) -> dict[str, str]:
    """This environment without the project's settings and without the agents' folder variables."""
    agent_variables = {fmt.home_env for fmt in collector.collected_formats() if fmt.home_env}
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SESSION_ANALYTICS_") and key not in agent_variables
    }
    return {**kept, **extra}


def session_analytics(*argv: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "session-analytics"), *argv]
    completed = subprocess.run(command, env=env or command_environment(), capture_output=True, text=True, timeout=900)
    if check and completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv[:1])} failed ({completed.returncode}):\n{completed.stdout[-3000:]}\n"
            f"{completed.stderr[-5000:]}"
        )
    return completed


class RecordingServer(collector.ServerDestination):
    """The real HTTP destination, keeping a copy of every body it sends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies: list[tuple[str, str, bytes]] = []

    def send(self, source: str, relative: str, data: bytes) -> str:
        self.bodies.append((source, relative, data))
        return super().send(source, relative, data)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("collector")
    paths = test_paths(root / "server")
    path_flags = [
        "--raw-dir",
        str(paths.raw_dir),
        "--directory",
        str(paths.directory),
        "--warehouse",
        str(paths.warehouse),
        "--lake-dir",
        str(paths.lake_dir),
    ]
    write_directory(
        paths.directory,
        orgs=[(ORG, "Acme", TIMEZONE)],
        users=[
            (ORG, "ada", "ada@acme.example", "Ada", "Exec", "", "admin"),
            (ORG, "ana", "ana@acme.example", "Ana", "Core", "ada", "member"),
            (ORG, "ben", "ben@acme.example", "Ben", "Core", "ada", "member"),
        ],
        projects=[(ORG, "p-shop", "Shop", "single")],
    )
    paths.raw_dir.mkdir(parents=True)
    # The published warehouse the server starts on: the directory, no usage yet. The real loaders and dbt build
    # in-process (no data tests); the refresh after the uploads below is the real command.
    build_warehouse(paths, dbt_tests=False)
    store = TokenStore(paths.tokens)
    tokens = {user: store.create(ORG, user)[1] for user in USERS}

    homes = original_homes()
    laptops = {}
    for user, sources in homes.items():
        laptop = root / "laptops" / user
        for source, original in sources.items():
            shutil.copytree(original, laptop / local_home_name(source))
        laptops[user] = laptop
    # ben's infra session is being written now: its cut last line is not sent (but would be, as a line cut for
    # good, 10 minutes later)
    for session in (laptops["ben"] / ".claude" / "projects" / "-home-ben-code-infra").glob("*.jsonl"):
        os.utime(session)
    # on ben's laptop: a link among the transcripts (to his prompt history) is never followed
    linked = laptops["ben"] / ".claude" / "projects" / "-home-ben-code-shop" / "linked.jsonl"
    linked.symlink_to(laptops["ben"] / ".claude" / "history.jsonl")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "session-analytics"),
            "serve",
            "--accept-uploads",
            "--port",
            str(port),
            "--warehouse",
            str(paths.warehouse),
            "--tokens",
            str(paths.tokens),
            "--raw-dir",
            str(paths.raw_dir),
        ],
        env=command_environment(SESSION_ANALYTICS_UPLOAD_MAX_BYTES=str(UPLOAD_LIMIT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
            time.sleep(0.1)

        # ana: the command, with her HOME: the default folders ~/.claude, ~/.copilot, ... and state file
        ana_env = command_environment(HOME=str(laptops["ana"]), SESSION_ANALYTICS_TOKEN=tokens["ana"])
        ana_first = session_analytics("collect", "--server", url, env=ana_env)
        # ben: in this process, his folders given as --home gives them, the bodies recorded
        ben = RecordingServer(url, tokens["ben"])
        ben.connect()
        ben_homes = {source: [laptops["ben"] / local_home_name(source)] for source in homes["ben"]}
        ben_state = collector.CollectorState(root / "ben-state.json", ben.key)
        ben_summaries = collector.collect(
            collector.collected_formats(), ben, ben_state, homes=ben_homes, environ={}, echo=lambda line: None
        )
        ben.close()
        mtimes_after_upload = raw_mtimes(paths.raw_dir)
        refresh = session_analytics("refresh", *path_flags)
        yield {
            "paths": paths,
            "flags": path_flags,
            "url": url,
            "tokens": tokens,
            "homes": homes,
            "laptops": laptops,
            "ana_env": ana_env,
            "ana_first": ana_first,
            "ben": ben,
            "ben_summaries": ben_summaries,
            "mtimes": mtimes_after_upload,
            "refresh": refresh,
            "store": store,
        }
    finally:
        server.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.communicate(timeout=15)


def raw_mtimes(raw_dir: Path) -> dict[str, int]:
    return {str(path.relative_to(raw_dir)): path.stat().st_mtime_ns for path in raw_dir.rglob("*") if path.is_file()}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- figures ---------------------------------------------------------------------------------------------------------


def ccusage_claude(home: Path) -> dict:
    """ccusage's per-day per-model tokens of one Claude config folder (the original files)."""
    return tokens_only(ccusage_daily_of([home], TIMEZONE, ccusage_command()))


def tokens_only(totals: dict) -> dict:
    """The token kinds of per-day per-model totals (costs differ by design: see the README)."""
    return {key: {kind: int(figures[kind]) for kind in TOKEN_KINDS} for key, figures in totals.items()}


def ccusage_view(source: str, home: Path, scratch: Path) -> Path:
    """The folder to run ccusage on for a like-for-like count: the home itself, except for the known differences
    of a source (README): ccusage counts a Gemini session twice when Gemini CLI migrated its `session-*.json` to a
    `.jsonl` and both are there; we count it once. So ccusage reads the home without such a `.json`."""
    if source != "gemini":
        return home
    view = scratch / f"ccusage-{source}-{home.name}"
    shutil.copytree(
        home,
        view,
        ignore=lambda folder, names: [
            name for name in names if name.endswith(".json") and name[:-5] + ".jsonl" in names
        ],
    )
    return view


def ccusage_agent(source: str, home: Path) -> dict:
    return agent_ccusage_daily_of(source, [home], TIMEZONE, ccusage_command())


def warehouse_claude(paths, user_id: str) -> dict:
    return tokens_only(warehouse_daily(paths.warehouse, TIMEZONE, user_id))


def warehouse_agent(paths, source: str, user_id: str) -> dict:
    return agent_warehouse_daily(source, paths.warehouse, TIMEZONE, user_id)


def fetch(paths, sql: str, *parameters):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(parameters)).fetchall()


def collected_sources() -> list[str]:
    homes = original_homes()
    return sorted({source for sources in homes.values() for source in sources})


@pytest.mark.parametrize("source", collected_sources())
def test_each_users_figures_equal_ccusages_for_their_own_original_files(world, source, tmp_path):
    compared = 0
    for user, sources in world["homes"].items():
        if source not in sources:
            continue
        if source == "claude_code":
            theirs, ours = ccusage_claude(sources[source]), warehouse_claude(world["paths"], user)
        else:
            view = ccusage_view(source, sources[source], tmp_path)
            theirs, ours = ccusage_agent(source, view), warehouse_agent(world["paths"], source, user)
        assert theirs, f"ccusage found nothing in {user}'s {source} fixtures"
        assert ours == theirs, (user, source)
        compared += 1
    assert compared


def test_bens_claude_code_figures_are_those_worked_out_by_hand(world):
    def kinds(*values):
        return dict(zip(TOKEN_KINDS, values))

    assert warehouse_claude(world["paths"], "ben") == {
        ("2026-11-20", SON): kinds(8, 607, 2_048, 24_048),
        ("2026-11-20", HAI): kinds(40, 15, 0, 9_000),
        ("2026-11-21", HAI): kinds(8, 64, 1_024, 4_096),
        ("2026-11-21", SON): kinds(2, 33, 500, 6_000),
    }


def test_each_users_files_are_in_their_own_folder_of_the_raw_dir(world):
    raw = world["paths"].raw_dir
    for user, sources in world["homes"].items():
        for source, original in sources.items():
            fmt = next(fmt for fmt in collector.collected_formats() if fmt.source == source)
            wanted = sorted(
                path.relative_to(original).as_posix()
                for path in original.rglob("*")
                if path.is_file() and collector.is_wanted(fmt, path.relative_to(original))
            )
            folder = raw / source / USERS[user]
            stored = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
            assert stored == wanted, (user, source)
    # never the prompt history, a todo list, or what a link points at
    assert not list(raw.rglob("history.jsonl")) and not list(raw.rglob("todos")) and not list(raw.rglob("linked*"))
    assert sorted(path.name for path in raw.iterdir()) == sorted(collected_sources())


def test_no_content_string_of_the_fixtures_leaves_the_laptop(world):
    originals = b"".join(
        path.read_bytes()
        for sources in world["homes"].values()
        for home in sources.values()
        for path in home.rglob("*")
        if path.is_file()
    )
    texts = {match.decode() for match in MARKER.findall(originals)} | set(REAL_CONTENT)
    assert all(text.encode() in originals for text in texts) and len(texts) > 10
    uploaded = b"".join(body for _, _, body in world["ben"].bodies)
    assert world["ben"].bodies
    paths = world["paths"]
    stored = {"ben's uploads": uploaded}
    stored |= {str(path): path.read_bytes() for path in paths.raw_dir.rglob("*") if path.is_file()}
    stored |= {str(path): path.read_bytes() for path in paths.lake_dir.rglob("*.parquet")}
    stored[str(paths.warehouse)] = paths.warehouse.read_bytes()
    for where, data in stored.items():
        for text in texts:
            assert text.encode() not in data, f"{text!r} found in {where}"


def test_a_second_run_with_nothing_new_sends_nothing(world):
    first = world["ana_first"].stdout
    assert re.search(r"claude_code: 9 file\(s\), 9 sent \(9 new", first), first
    again = session_analytics("collect", "--server", world["url"], env=world["ana_env"])
    assert "nothing new to send" in again.stdout and "0 sent" in again.stdout
    assert (
        "claude_code: 9 file(s), 0 sent (0 new, 0 updated, 0 already there), 9 unchanged since the last run"
        in again.stdout
    )
    assert raw_mtimes(world["paths"].raw_dir) == world["mtimes"]
    state = Path(world["laptops"]["ana"]) / ".session-analytics" / "collector-state.json"
    stored = json.loads(state.read_text())
    assert tokens_not_in(state, world["tokens"]["ana"])
    assert {entry["status"] for dest in stored["destinations"].values() for entry in dest["files"].values()} == {"sent"}


def tokens_not_in(path: Path, token: str) -> bool:
    return token.encode() not in path.read_bytes()


def test_a_resent_batch_changes_nothing(world):
    again = session_analytics("collect", "--server", world["url"], "--full", env=world["ana_env"])
    assert re.search(r"claude_code: 9 file\(s\), 9 sent \(0 new, 0 updated, 9 already there\)", again.stdout), (
        again.stdout
    )
    source, relative, body = world["ben"].bodies[0]
    response = httpx.post(
        f"{world['url']}/uploads/{source}",
        params={"path": relative},
        content=body,
        headers=auth(world["tokens"]["ben"]),
    )
    assert response.status_code == 200 and response.json()["status"] == "unchanged"
    assert raw_mtimes(world["paths"].raw_dir) == world["mtimes"]


def test_a_kept_alive_connection_the_server_closed_meanwhile_is_reopened_at_once(world):
    destination = collector.ServerDestination(world["url"], world["tokens"]["ben"])
    destination.connect()
    kept_alive = destination._connection
    time.sleep(5.5)  # uvicorn closes a connection idle for 5 s
    source, relative, body = world["ben"].bodies[-1]
    started = time.monotonic()
    assert destination.send(source, relative, body) == "unchanged"
    assert time.monotonic() - started < collector.HTTP_BACKOFF_SECONDS
    assert destination._connection is not kept_alive  # a new one, without waiting
    destination.close()


def test_the_token_alone_decides_whose_folder_an_upload_goes_to(world, tmp_path):
    url, ana = world["url"], world["tokens"]["ana"]
    raw = world["paths"].raw_dir
    assert httpx.get(f"{url}/uploads/whoami", headers=auth(ana)).json() | {"sources": None} == {
        "org_id": ORG,
        "user_id": "ana",
        "email": "ana@acme.example",
        "folder": "ana@acme.example",
        "sources": None,
        "max_bytes": UPLOAD_LIMIT,
    }
    line = b'{"type":"user","sessionId":"s-1","timestamp":"2026-11-20T10:00:00.000Z"}\n'
    target = "projects/-home-x/11111111-2222-4333-8444-555555555555.jsonl"
    before = raw_mtimes(raw)
    # no user field is accepted
    for extra in ({"email": "ben@acme.example"}, {"user": "ben"}, {"user_id": "ben"}):
        refused = httpx.post(
            f"{url}/uploads/claude_code", params={"path": target, **extra}, content=line, headers=auth(ana)
        )
        assert refused.status_code == 422 and refused.json()["parameter"] == next(iter(extra))
    # nor a path out of the user's folder
    for path in (
        "../ben@acme.example/projects/-home-x/a.jsonl",
        "projects/../../ben@acme.example/projects/x/a.jsonl",
        "/projects/-home-x/a.jsonl",
        "projects/-home-x/..\\a.jsonl",
        "projects//a.jsonl",
        "projects/.hidden/a.jsonl",
    ):
        refused = httpx.post(f"{url}/uploads/claude_code", params={"path": path}, content=line, headers=auth(ana))
        assert refused.status_code == 422 and refused.json()["parameter"] == "path", path
    assert raw_mtimes(raw) == before
    # a proper upload lands in ana's folder, whoever the path looks like
    named = "projects/-home-ben@acme.example/11111111-2222-4333-8444-555555555555.jsonl"
    created = httpx.post(f"{url}/uploads/claude_code", params={"path": named}, content=line, headers=auth(ana))
    assert created.status_code == 201 and created.json()["status"] == "created"
    assert (raw / "claude_code" / "ana@acme.example" / named).read_bytes() == line
    assert not (raw / "claude_code" / "ben@acme.example" / named).exists()
    (raw / "claude_code" / "ana@acme.example" / named).unlink()
    (raw / "claude_code" / "ana@acme.example" / named).parent.rmdir()


def test_a_link_in_the_raw_dir_is_never_written_through(world, tmp_path):
    url, ana = world["url"], world["tokens"]["ana"]
    folder = world["paths"].raw_dir / "claude_code" / "ana@acme.example" / "projects"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "-home-linked").symlink_to(elsewhere)
    (folder / "-home-x").mkdir()
    (folder / "-home-x" / "f.jsonl").symlink_to(elsewhere / "target.jsonl")
    line = b'{"type":"user"}\n'
    try:
        for path in ("projects/-home-linked/a.jsonl", "projects/-home-x/f.jsonl"):
            refused = httpx.post(f"{url}/uploads/claude_code", params={"path": path}, content=line, headers=auth(ana))
            assert refused.status_code == 409, (path, refused.text)
        assert list(elsewhere.iterdir()) == []
    finally:
        (folder / "-home-linked").unlink()
        (folder / "-home-x" / "f.jsonl").unlink()
        (folder / "-home-x").rmdir()


def test_an_oversize_upload_is_refused(world):
    url, ana = world["url"], world["tokens"]["ana"]
    raw = world["paths"].raw_dir
    path = "projects/-home-x/22222222-2222-4333-8444-555555555555.jsonl"
    line = b'{"type":"user"}\n'
    body = line * (UPLOAD_LIMIT // len(line) + 1)
    assert len(body) > UPLOAD_LIMIT
    declared = httpx.post(f"{url}/uploads/claude_code", params={"path": path}, content=body, headers=auth(ana))
    assert declared.status_code == 413 and "limit is 2000000" in declared.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = httpx.post(f"{url}/uploads/claude_code", params={"path": path}, content=chunks(), headers=auth(ana))
    assert streamed.status_code == 413
    fits = body[: (UPLOAD_LIMIT // len(line)) * len(line)]
    exactly = httpx.post(f"{url}/uploads/claude_code", params={"path": path}, content=fits, headers=auth(ana))
    assert exactly.status_code == 201
    (raw / "claude_code" / "ana@acme.example" / path).unlink()
    (raw / "claude_code" / "ana@acme.example" / path).parent.rmdir()
    assert not (raw / "claude_code" / "ana@acme.example" / "projects" / "-home-x").exists()


def test_uploads_are_validated_like_raw_files(world):
    url, ana = world["url"], world["tokens"]["ana"]
    path = "projects/-home-x/33333333-2222-4333-8444-555555555555.jsonl"

    def post(body: bytes, token: str | None = ana, source: str = "claude_code", at: str = path):
        return httpx.post(
            f"{url}/uploads/{source}", params={"path": at}, content=body, headers=auth(token) if token else {}
        )

    before = raw_mtimes(world["paths"].raw_dir)
    not_text = post(b'{"type":"user"}\n\xff\xfe\n')
    assert not_text.status_code == 422 and "not UTF-8" in not_text.json()["detail"]
    not_json = post(b'SECRET-PROMPT-upload\n{"type": "SECRET-PROMPT-upload\n')
    assert not_json.status_code == 422 and "none of its 2 non-blank lines is JSON" in not_json.json()["detail"]
    assert "SECRET" not in not_json.text  # the reason never quotes the data
    unknown = post(b"{}\n", source="cursor")
    assert unknown.status_code == 422 and unknown.json()["parameter"] == "source"
    for unwanted in ("history.jsonl", "projects/-home-x/notes.txt", "todos/a/b.jsonl"):
        refused = post(b"{}\n", at=unwanted)
        assert refused.status_code == 422 and "not a file the claude_code loader reads" in refused.json()["detail"]
    assert post(b"{}\n", token=None).status_code == 401
    assert post(b"{}\n", token="sa_not-a-token").status_code == 401
    record, secret = world["store"].create(ORG, "ana")
    world["store"].revoke(record.token_id)
    assert post(b"{}\n", token=secret).status_code == 401
    assert raw_mtimes(world["paths"].raw_dir) == before
    # a bad line beside good ones is kept (the refresh quarantines it), as a copy's stand-in for one
    accepted = post(f'{{"type":"user"}}\n{collector.INVALID_LINE}\n'.encode())
    assert accepted.status_code == 201
    (world["paths"].raw_dir / "claude_code" / "ana@acme.example" / path).unlink()
    (world["paths"].raw_dir / "claude_code" / "ana@acme.example" / path).parent.rmdir()


def test_the_refresh_quarantines_the_copys_bad_lines_where_the_original_has_them(world):
    """ben's shop session: line 8 was cut (invalid JSON); the infra session's last line, still being written,
    was not sent."""
    rows = fetch(
        world["paths"],
        "select source_file, line_number, reason from raw.quarantined_lines "
        "where source_file like 'claude_code/ben@%' order by all",
    )
    assert rows == [
        (
            "claude_code/ben@acme.example/projects/-home-ben-code-shop/b3a1f7c2-5d4e-4c6b-9a8f-0e1d2c3b4a51.jsonl",
            8,
            "invalid JSON (line content not kept)",
        )
    ]


# -- the copy: the loader and ccusage read it as the original -------------------------------------------------------

HOSTILE_SESSION = "d5c3f9e4-7f60-4e8d-9cab-2a3f4e5d6c73"


def hostile_transcript() -> str:
    """Lines a careless or hostile producer writes, each with content beside what is read."""
    common = f'"cwd":"/home/eve/app","sessionId":"{HOSTILE_SESSION}","version":"2.1.39","gitBranch":"main"'

    def assistant(mid, rid, out, ts, extra="", usage_extra="", content='[{"type":"text","text":"SECRET-R"}]'):
        return (
            f'{{"parentUuid":null,"isSidechain":false,{common},"message":{{"model":"{SON}","id":"{mid}",'
            f'"type":"message","role":"assistant","content":{content},"usage":{{"input_tokens":4,'
            f'"cache_creation_input_tokens":10,"cache_read_input_tokens":100,'
            f'"output_tokens":{out}{usage_extra}}}}},'
            f'"requestId":"{rid}","type":"assistant"{extra},"uuid":"u","timestamp":"{ts}"}}'
        )

    lines = [
        "\ufeff" + assistant("m1", "r1", 11, "2026-11-20T08:00:00.000Z"),  # a BOM: ccusage skips the line
        assistant("m2", "r2", 12, "2026-11-20T08:01:00.000Z").replace('"usage":{', '"usage": {'),  # ccusage skips
        assistant(
            "m3",
            "r3",
            13,
            "2026-11-20T08:02:00.000Z",
            content='[{"type":"tool_use","id":"t","input":{"id":null,"q":"SECRET-T"}}]',
        ),  # a null id: skipped
        assistant("m4", "r4", 14, "2026-11-20T08:03:00.000Z", content='[{"type":"text","text":NaN}]'),
        assistant("m5", "r5", 15, "2026-11-20T08:04:00.000Z", extra=',"content":"SECRET-D","content":"x"'),
        assistant("m6", "r6", '"15"', "2026-11-20T08:05:00.000Z"),  # a string count: quarantined
        assistant("m7", "r7", 17, "2026-11-20T08:06:00.000Z", usage_extra=',"input_tokens":999'),  # duplicate
        assistant("m8", "r8", 18, "2026-11-20T08:07:00.000Z", extra=',"isSidechain":"SECRET-S"'),
        assistant("m9", "r9", 19, "2026-11-20T08:08:00.000Z").replace(f'"{SON}"', '"' + "m" * 300 + '"'),
        assistant("m10", "r10", 1e3, "2026-11-20T08:09:00.000Z"),
        assistant("m11", "r11", 21, "2026-11-20T08:10:00.000Z", usage_extra=',"speed":"fast"'),
        assistant("m12", "r12", 22, "2026-11-20T08:11:00.000Z").replace('"message":{', '"message":"SECRET-M","x":{'),
        '["SECRET-A"]',
        '"SECRET-B"',
        "   ",
        '{"type":"user","message":{"content":"SECRET-C"},' + common + ',"timestamp":"2026-11-20T08:12:00Z",}',
        '{"type":"summary","summary":"SECRET-E" "x"}',
        assistant("m13", "r13", 23, "2026-11-20T08:13:00.000Z") + "\r",
        '{"type":"user",'
        + common.replace("/home/eve/app", "/home/eve/" + "d" * 5000)
        + ',"timestamp":"2026-11-20T08:14:00Z"}',
    ]
    return "\n".join(lines) + "\n"


def load_lake(raw_dir: Path, lake_dir: Path) -> dict[str, list]:
    claude_code.load_all(raw_dir, lake_dir)
    tables = {}
    with duckdb.connect() as conn:
        for dataset in ("claude_code_requests", "claude_code_session_spans", "quarantined_lines", "load_file_summary"):
            files = sorted(str(path) for path in (lake_dir / dataset).rglob("*.parquet"))
            columns = ", ".join(lake.DATASETS[dataset]["columns"])  # type: ignore[arg-type]
            tables[dataset] = conn.execute(f"select {columns} from read_parquet(?) order by all", [files]).fetchall()
    return tables


def test_the_loader_reads_a_hostile_transcripts_copy_exactly_as_the_original(tmp_path):
    relative = Path("claude_code/eve@acme.example/projects/-home-eve-app") / f"{HOSTILE_SESSION}.jsonl"
    original = tmp_path / "original" / relative
    original.parent.mkdir(parents=True)
    original.write_text(hostile_transcript(), encoding="utf-8")
    copied = tmp_path / "copy" / relative
    copied.parent.mkdir(parents=True)
    data = claude_code.strip_file(original)
    copied.write_bytes(data)
    assert b"SECRET" not in data
    assert collector.content_problem(copied.name, data, UPLOAD_LIMIT) is None
    ours = load_lake(tmp_path / "original", tmp_path / "lake-original")
    theirs = load_lake(tmp_path / "copy", tmp_path / "lake-copy")
    assert ours == theirs
    # the usage lines m1 to m4, m11 and m13 load; line 16 too (DuckDB reads its trailing comma), with no usage
    assert [row[1] for row in ours["claude_code_requests"]] == [1, 2, 3, 4, 11, 18]
    assert [row[1] for row in ours["quarantined_lines"]] == [5, 6, 7, 8, 9, 10, 13, 14, 17, 19]
    reasons = {reason for _, _, reason, _ in ours["quarantined_lines"]}
    assert {
        "invalid JSON (line content not kept)",
        "not a JSON object (line content not kept)",
        "duplicate key message.usage.input_tokens",
        "duplicate key content",
        "mistyped field message.usage.output_tokens: expected integer",
    } <= reasons, reasons


def test_ccusage_reads_a_hostile_transcripts_copy_exactly_as_the_original(tmp_path):
    homes = {}
    for name in ("original", "copy"):
        folder = tmp_path / name / "projects" / "-home-eve-app"
        folder.mkdir(parents=True)
        homes[name] = tmp_path / name
    original = homes["original"] / "projects" / "-home-eve-app" / f"{HOSTILE_SESSION}.jsonl"
    original.write_text(hostile_transcript(), encoding="utf-8")
    (homes["copy"] / "projects" / "-home-eve-app" / original.name).write_bytes(claude_code.strip_file(original))
    theirs = ccusage_claude(homes["original"])
    assert ccusage_claude(homes["copy"]) == theirs
    # it reads m9 (19 output tokens), m11 (21, as <model>-fast) and m13 (23); not m1 to m4 (a BOM, a spaced usage
    # key, a null id in the content, a NaN in the content), m5 (a duplicate key beside a null: parentUuid), m6 to
    # m8, m10 and m12 (a string count, duplicate fields, 1000.0 tokens, a message that is a string)
    assert sum(row["outputTokens"] for row in theirs.values()) == 19 + 21 + 23
    assert {model for _, model in theirs} == {SON, SON + "-fast", "m" * 300}


def test_a_last_line_being_written_is_left_out_of_the_copy(tmp_path):
    """The original's cut last line is quarantined if read now, and counted once complete; the copy leaves it
    out until then (the next run sends the file with it)."""
    path = tmp_path / "a.jsonl"
    complete = next(line for line in hostile_transcript().split("\n") if '"id":"m13"' in line) + "\n"
    path.write_text(complete + complete[:-40], encoding="utf-8")
    copy = claude_code.strip_file(path)
    assert copy.count(b"\n") == 1 and b"m13" in copy
    # left so for 10 minutes, it is a line cut for good: quarantined at its line, as the original's would be
    settled = time.time() - claude_code.OPEN_LINE_SETTLE_SECONDS
    os.utime(path, (settled, settled))
    assert claude_code.strip_file(path) == copy + collector.INVALID_LINE.encode() + b"\n"
    path.write_text(complete * 2, encoding="utf-8")
    assert claude_code.strip_file(path) == copy * 2


def test_a_file_written_to_recently_is_read_again_on_the_next_run(tmp_path):
    """...so that a cut last line, left out while it may be being written, is sent once it has settled."""
    home, share = tmp_path / "claude", tmp_path / "share"
    session = home / "projects" / "-home-x" / "55555555-2222-4333-8444-555555555555.jsonl"
    session.parent.mkdir(parents=True)
    share.mkdir()
    line = '{"type":"user","sessionId":"s","timestamp":"2026-11-20T10:00:00.000Z"}\n'
    session.write_text(line + line[:30], encoding="utf-8")
    flags = [
        "--to",
        str(share),
        "--email",
        "eve@acme.example",
        "--home",
        f"claude_code={home}",
        "--source",
        "claude_code",
        "--state",
        str(tmp_path / "state.json"),
    ]
    code, out, _ = run_collect(*flags)
    sent = share / "claude_code" / "eve@acme.example" / session.relative_to(home)
    assert code == 0 and sent.read_text() == '{"type":"user","sessionId":"s","timestamp":"2026-11-20T10:00:00.000Z"}\n'
    code, out, _ = run_collect(*flags)
    assert "nothing new to send" in out  # read again, the same copy: not sent
    settled = time.time() - claude_code.OPEN_LINE_SETTLE_SECONDS
    os.utime(session, (settled, settled))
    code, out, _ = run_collect(*flags)
    assert "1 sent (0 new, 1 updated" in out and sent.read_text().endswith(collector.INVALID_LINE + "\n")
    code, out, _ = run_collect(*flags)
    assert "1 unchanged since the last run" in out


def test_a_file_that_is_not_utf8_has_no_copy_and_an_empty_file_an_empty_one(tmp_path):
    broken = tmp_path / "a.jsonl"
    broken.write_bytes(b'{"type":"user"}\n\xff\n')
    assert claude_code.strip_file(broken) is None
    empty = tmp_path / "b.jsonl"
    empty.write_bytes(b"")
    assert claude_code.strip_file(empty) == b""
    cut = tmp_path / "c.jsonl"
    cut.write_bytes(b'{"type":"user"}\n{"type":"us\xc3')  # cut inside a character, mid-write
    assert claude_code.strip_file(cut) == b'{"type":"user"}\n'


# -- --to DIR ---------------------------------------------------------------------------------------------------------


def run_collect(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["collect", *argv])
    return code, out.getvalue(), err.getvalue()


def test_collect_to_a_folder_writes_the_raw_dir_layout_under_the_email_and_sends_only_what_changed(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    home = tmp_path / "claude"
    shutil.copytree(BEN_CLAUDE, home)
    flags = [
        "--to",
        str(share),
        "--email",
        "Ben@Acme.example",
        "--home",
        f"claude_code={home}",
        "--source",
        "claude_code",
        "--state",
        str(tmp_path / "state.json"),
    ]
    code, out, _ = run_collect(*flags)
    assert code == 0 and "claude_code: 3 file(s), 3 sent (3 new" in out, out
    folder = share / "claude_code" / "ben@acme.example"
    assert sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.jsonl")) == sorted(
        path.relative_to(home).as_posix() for path in (home / "projects").rglob("*.jsonl")
    )
    code, out, _ = run_collect(*flags)
    assert code == 0 and "nothing new to send" in out
    # a session goes on: only its file is sent again
    session = next((home / "projects" / "-home-ben-code-infra").glob("*.jsonl"))
    text = session.read_text()
    session.write_text(text[: text.rindex("\n") + 1] + text[: text.index("\n") + 1])
    code, out, _ = run_collect(*flags)
    assert code == 0 and "claude_code: 3 file(s), 1 sent (0 new, 1 updated" in out, out
    code, out, _ = run_collect(*flags, "--dry-run", "--full")
    assert code == 0 and out.count("would send") == 4


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--email", "ben"], "not an email address"),
        (["--email", "ben/x@acme.example"], "folder name"),
        (["--email", "ben/../../x@acme.example"], "not one email address"),
        (["--email", "a@b.example, c@d.example"], "not"),
        ([], "--to needs --email"),
        (["--email", "ben@acme.example", "--token", "sa_x"], "--token and --token-file go with --server"),
    ],
)
def test_collect_to_a_folder_refuses_a_bad_email(tmp_path, flags, message):
    code, _, err = run_collect("--to", str(tmp_path), "--state", str(tmp_path / "s.json"), *flags)
    assert code == 2 and message in err, err


def test_collect_to_a_missing_folder_is_refused_not_created(tmp_path):
    code, _, err = run_collect("--to", str(tmp_path / "not-mounted"), "--email", "ben@acme.example")
    assert code == 2 and "not a folder" in err and not (tmp_path / "not-mounted").exists()


def test_collect_to_a_server_needs_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv(collector.TOKEN_ENV, raising=False)
    code, _, err = run_collect("--server", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json"))
    assert code == 2 and "needs your API token" in err


@pytest.mark.parametrize(
    "path, problem",
    [
        ("projects/-home-x/a.jsonl", None),
        ("sessions/2025/10/01/rollout-2025-10-01T10-00-00-0199a.jsonl", None),
        ("", "empty path"),
        ("/etc/passwd", "absolute"),
        ("projects/../x.jsonl", "'..'"),
        ("projects/./x.jsonl", "'.'"),
        ("projects/.git/x.jsonl", "hidden"),
        ("projects//x.jsonl", "empty component"),
        ("projects/x/", "empty component"),
        ("projects\\..\\x.jsonl", "backslash"),
        ("C:/x.jsonl", "colon"),
        ("projects/a\nb.jsonl", "control"),
        ("projects/a\u202eb.jsonl", "format"),
        ("projects/" + "a" * 256 + ".jsonl", "longer than 255 bytes"),
        ("/".join(["a"] * 17), "more than 16"),
    ],
)
def test_path_rules(path, problem):
    found = collector.path_problem(path)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_gzip_uploads_are_checked_once_decompressed():
    good = gzip.compress(b'{"a":1}\n')
    assert collector.content_problem("otel/x.jsonl.gz", good, 100) is None
    assert "not gzip" in collector.content_problem("otel/x.jsonl.gz", b"plain", 100)
    bomb = gzip.compress(b"{}\n" * 1000)
    assert "once decompressed" in collector.content_problem("otel/x.jsonl.gz", bomb, 100)
    assert collector.content_problem("otel/x.jsonl.gz", gzip.compress(b"{}\n{\n"), 100) is None
    assert "none of its 1" in collector.content_problem("otel/x.jsonl.gz", gzip.compress(b"{\n"), 100)
    assert "not a JSON document" in collector.content_problem("tmp/h/chats/session-1.json", b'{"a":', 100)


def test_a_refused_copy_is_reported_once_and_not_sent_again_until_the_file_changes(tmp_path):
    """A format whose copy of a file is not a raw file of its kind (here: not UTF-8 text) is refused by the
    destination as the server refuses it; the run exits 1, the next run does not send it again and exits 0."""
    home, share = tmp_path / "home", tmp_path / "share"
    (home / "logs").mkdir(parents=True)
    share.mkdir()
    (home / "logs" / "good.jsonl").write_text('{"n":1}\n')
    (home / "logs" / "bad.jsonl").write_text('{"n":2}\n')
    fmt = claude_code.CollectedFormat(
        source="claude_code",
        wanted=lambda relative: relative.parts[0] == "logs",
        strip_file=lambda path: b"\xff\n" if path.name == "bad.jsonl" else path.read_bytes(),
        local_home=str(home),
        home_env=None,
    )
    destination = collector.FolderDestination(share, "eve@acme.example", UPLOAD_LIMIT)
    state = collector.CollectorState(tmp_path / "state.json", destination.key)
    (first,) = collector.collect([fmt], destination, state, environ={}, echo=lambda line: None)
    assert (first.created, [path for path, _ in first.refused]) == (1, ["logs/bad.jsonl"])
    assert "not UTF-8" in first.refused[0][1]
    assert (share / "claude_code" / "eve@acme.example" / "logs" / "good.jsonl").exists()
    assert not (share / "claude_code" / "eve@acme.example" / "logs" / "bad.jsonl").exists()
    state = collector.CollectorState(tmp_path / "state.json", destination.key)
    (second,) = collector.collect([fmt], destination, state, environ={}, echo=lambda line: None)
    assert (second.sent, second.refused, second.unchanged_since_last_run) == (0, [], 2)
    assert [key for key, _ in second.refused_earlier] == ["claude_code/logs/bad.jsonl"]
    assert "1 refused before and unchanged since" in collector.report([second], destination, False, False)


def test_an_unreachable_server_stops_the_run_with_exit_code_1(tmp_path, monkeypatch):
    monkeypatch.setattr(collector, "HTTP_BACKOFF_SECONDS", 0)
    code, _, err = run_collect(
        "--server", f"http://127.0.0.1:{free_port()}", "--token", "sa_x", "--state", str(tmp_path / "s.json")
    )
    assert code == 1 and "cannot reach" in err


def test_a_plain_http_server_that_is_not_loopback_is_warned_about():
    assert "unencrypted" in collector.ServerDestination("http://analytics.acme.example", "sa_x").plaintext_warning()
    assert collector.ServerDestination("http://127.0.0.1:8000", "sa_x").plaintext_warning() is None
    assert collector.ServerDestination("https://analytics.acme.example", "sa_x").plaintext_warning() is None
    with pytest.raises(ValueError):
        collector.ServerDestination("https://user:pw@analytics.acme.example", "sa_x")
    with pytest.raises(ValueError):
        collector.ServerDestination("ftp://analytics.acme.example", "sa_x")


def test_a_server_that_does_not_accept_uploads_is_named_as_such(world):
    """`serve` without --accept-uploads has no /uploads routes: the collector stops and says why."""
    import socket
    import threading

    import uvicorn

    from reports.api.app import ApiSettings, create_app

    paths = world["paths"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ApiSettings(warehouse=paths.warehouse, tokens=paths.tokens)),
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        destination = collector.ServerDestination(f"http://127.0.0.1:{sock.getsockname()[1]}", world["tokens"]["ana"])
        with pytest.raises(collector.Fatal, match="does not accept uploads"):
            destination.connect()
        destination.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_the_token_can_come_from_a_file_which_should_be_private(world, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(world["tokens"]["ana"] + "\n")
    env = {key: value for key, value in world["ana_env"].items() if key != collector.TOKEN_ENV}
    token_file.chmod(0o600)
    private = session_analytics("collect", "--server", world["url"], "--token-file", str(token_file), env=env)
    assert "nothing new to send" in private.stdout and "warning" not in private.stderr
    token_file.chmod(0o644)
    readable = session_analytics("collect", "--server", world["url"], "--token-file", str(token_file), env=env)
    assert "can be read by other users" in readable.stderr


def test_one_run_at_a_time_per_state_file(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    state = tmp_path / "state.json"
    with collector.run_lock(state) as held:
        assert held
        code, out, err = run_collect(
            "--to",
            str(share),
            "--email",
            "eve@acme.example",
            "--state",
            str(state),
            "--home",
            f"claude_code={BEN_CLAUDE}",
            "--source",
            "claude_code",
        )
        assert code == 0 and "is running; nothing done" in err and not any(share.iterdir())
    code, out, err = run_collect(
        "--to",
        str(share),
        "--email",
        "eve@acme.example",
        "--state",
        str(state),
        "--home",
        f"claude_code={BEN_CLAUDE}",
        "--source",
        "claude_code",
    )
    assert code == 0 and "3 sent" in out
