"""Real Claude Code 2.1.x transcripts (tests/fixtures/claude_code_real, see its NOTICE.md) through the real
loaders, a real dbt build and the real ccusage 20.0.24, in the org's time zone (Europe/Berlin).

Per session and model, worked out by reading the files (the distinct (message.id, requestId) of each file's
usage entries, the largest copy of each), as uncached input / output / cache write / cache read:
  491e126e (main file only): opus-4-6 1,576 / 1,586 / 25,842 / 427,286; haiku-4-5 24 / 7 / 14,285 / 95,343,
    read only from 9 `agent_progress` records of subagent afb92ff (5 requests), whose own file is gone
  8463c716 (39 agent_progress records, 19 of them copies of 12 of the 14 requests of subagent a7be2f0's file):
    haiku-4-5 94 / 33 / 13,554 / 299,487, each request once (the two copies summed would be 188 / 65 / ...);
    its compaction agent: opus-4-6 3 / 6 / 2,814 / 167,093
  6c2214d7 (empty main file, one subagent file): haiku-4-5 32 / 13 / 10,450 / 86,017
  ae4a77f8 (subagent files only): sonnet-4-5 2,408 / 7 / 18,814 / 29,274; compaction agent opus-4-6
    3 / 8 / 121,689 (5m writes) / 17,842
  d6e0bada (queue-operation and system records): opus-4-6 54 / 212 / 17,696 / 88,231
"""

import shutil

import duckdb
import pytest

from orchestration.bench.ccusage_parity import ccusage_command, ccusage_daily, compare, warehouse_daily
from tests.fixtures import FIXTURES_DIR
from tests.fixtures.warehouse import assert_no_content_stored, build_warehouse, test_paths, write_directory

FIXTURES = FIXTURES_DIR / "claude_code_real"
EMAIL = "developer@spotter.example"
TIMEZONE = "Europe/Berlin"
OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
# Text of a tool call inside an embedded agent_progress message, and of a tool result: content, never stored.
CONTENT = ("git log --oneline -10", "The format matches the existing beads")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    paths = test_paths(tmp_path_factory.mktemp("real-transcripts"))
    shutil.copytree(FIXTURES / EMAIL, paths.raw_dir / "claude_code" / EMAIL)
    write_directory(
        paths.directory,
        orgs=[("spotter", "Spotter", TIMEZONE)],
        users=[("spotter", "u-dev", EMAIL, "Developer", "Core", "", "admin")],
        projects=[("spotter", "p-spotter", "Spotter", "single")],
    )
    build_warehouse(paths)
    return paths


def fetch(paths, sql, *parameters):
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(parameters)).fetchall()


def test_per_day_and_model_tokens_equal_ccusage(real):
    theirs = ccusage_daily(real.raw_dir, TIMEZONE, ccusage_command())
    rows, identical = compare(warehouse_daily(real.warehouse, TIMEZONE), theirs)
    assert identical, [row for row in rows if row[-1] != "ok"]
    assert {model for _, model in theirs} == {OPUS, SONNET, HAIKU}
    assert len({day for day, _ in theirs}) == 3


def test_each_request_is_counted_once_from_files_and_progress_copies(real):
    rows = fetch(
        real,
        """
        select left(session_id, 8), model, sum(uncached_input_tokens), sum(output_tokens),
               sum(cache_creation_input_tokens), sum(cache_read_input_tokens)
        from analytics.fct_model_requests group by all order by all""",
    )
    assert rows == [
        ("491e126e", HAIKU, 24, 7, 14_285, 95_343),
        ("491e126e", OPUS, 1_576, 1_586, 25_842, 427_286),
        ("6c2214d7", HAIKU, 32, 13, 10_450, 86_017),
        ("8463c716", HAIKU, 94, 33, 13_554, 299_487),
        ("8463c716", OPUS, 3, 6, 2_814, 167_093),
        ("ae4a77f8", OPUS, 3, 8, 121_689, 17_842),
        ("ae4a77f8", SONNET, 2_408, 7, 18_814, 29_274),
        ("d6e0bada", OPUS, 54, 212, 17_696, 88_231),
    ]


def test_a_progress_copy_is_loaded_as_its_subagents_sidechain_line(real):
    """The embedded entry's message id, request id, model and timestamp, the record's data.agentId."""
    rows = fetch(
        real,
        """
        select split_part(source_file, '/', -1), agent_id, is_sidechain, count(*), count(distinct message_id)
        from raw.claude_code_requests where source_file not like '%/subagents/%' and model <> ?
        group by all order by all""",
        OPUS,
    )
    assert rows == [
        ("491e126e-1e71-469c-ade2-fcc8af567c74.jsonl", "afb92ff", True, 9, 5),
        ("8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl", "a7be2f0", True, 19, 12),
    ]
    assert fetch(
        real,
        """
        select cast(event_at_utc as varchar), message_id, request_id from raw.claude_code_requests
        where source_file like '%491e126e%' and model = ? order by line_number limit 1""",
        HAIKU,
    ) == [("2026-02-10 21:58:17.856", "msg_0199s85GE5eqHtZm2Xpv7BsK", "req_011CY18wFKcx4uxzHzUBxUC6")]


def test_every_real_record_type_loads_and_none_is_quarantined(real):
    assert fetch(real, "select count(*) from raw.quarantined_lines") == [(0,)]
    files = dict(fetch(real, "select split_part(source_file, '/', -1), lines_read from raw.load_file_summary"))
    assert files["6c2214d7-b87e-4432-8e41-22ba294ea584.jsonl"] == 0  # the empty main file
    assert len(files) == 9
    # the empty main file's session is a session, from its subagent file
    assert fetch(real, "select count(*) from analytics.fct_sessions where session_id like '6c2214d7%'") == [(1,)]


def test_costs_equal_ccusages_where_both_price_alike(real):
    """No request has more than 200K input tokens, so the long-context rules (ours: the whole request at the
    long-context rates; ccusage: each token type split at 200K) do not come in; both price a 1h cache write
    at twice the input rate, and every model here at the same published rates."""
    assert fetch(
        real,
        "select max(total_input_tokens) < 200000, sum(cache_write_1h_tokens) > 0, "
        "sum(cache_write_5m_tokens) > 0 from analytics.fct_model_requests",
    ) == [(True, True, True)]
    theirs = ccusage_daily(real.raw_dir, TIMEZONE, ccusage_command())
    ours = warehouse_daily(real.warehouse, TIMEZONE)
    assert set(ours) == set(theirs) and {model for _, model in ours} == {OPUS, SONNET, HAIKU}
    for key in theirs:
        assert ours[key]["cost"] == pytest.approx(theirs[key]["cost"], rel=0.005), key


def test_a_haiku_session_costs_what_the_published_rates_give(real):
    """6c2214d7 (haiku 4.5 at $1 in, $5 out, $2 1h write, $0.10 read per million; every write here is 1h):
    (32 x 1 + 13 x 5 + 10,450 x 2 + 86,017 x 0.10) / 1e6 = $0.0295987."""
    assert fetch(
        real,
        "select sum(cache_write_1h_tokens), cast(sum(cost_usd) as double) "
        "from analytics.fct_model_requests where session_id like '6c2214d7%'",
    ) == [(10_450, pytest.approx(0.0295987, abs=1e-9))]


def test_every_request_is_priced(real):
    assert fetch(real, "select count(*), count(*) filter (where not is_priced) from analytics.fct_model_requests") == [
        (45, 0)
    ]


def test_no_content_reaches_the_lake_or_the_warehouse(real):
    assert_no_content_stored(real, CONTENT)


def test_where_a_progress_copy_is_a_partial_line_ccusage_counts_it_and_we_count_the_final_line(tmp_path):
    """A deliberate difference (README): ccusage prefers a main-session copy, and an agent_progress record is
    one to it, even when the subagent's own file holds a larger final line of the same request; we read the
    copy as the sidechain line it is and keep the largest. Subagent response msg_P/req_P: a streamed partial
    line (10 output tokens), copied into the main file, then the final line (300)."""
    paths = test_paths(tmp_path)
    folder = paths.raw_dir / "claude_code" / EMAIL / "projects" / "-home-dev-app"
    session, agent = "5e55a0b1-0000-4000-8000-000000000001", "a1b2c3d"
    common = (
        f'"userType":"external","cwd":"/home/dev/app","sessionId":"{session}","version":"2.1.39","gitBranch":"main"'
    )

    def message(output):
        return (
            f'"message":{{"model":"{HAIKU}","id":"msg_P","type":"message","role":"assistant","content":[],'
            f'"usage":{{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,'
            f'"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"req_P"'
        )

    def subagent_line(output, at):
        return (
            f'{{"parentUuid":null,"isSidechain":true,{common},"agentId":"{agent}",{message(output)},'
            f'"type":"assistant","uuid":"u-{output}","timestamp":"{at}"}}\n'
        )

    progress = (
        f'{{"parentUuid":null,"isSidechain":false,{common},"type":"progress","data":{{"message":'
        f'{{"type":"assistant","timestamp":"2026-02-10T10:00:00.000Z",{message(10)},"uuid":"u-p"}},'
        f'"normalizedMessages":[],"type":"agent_progress","agentId":"{agent}"}},"uuid":"u-q",'
        '"timestamp":"2026-02-10T10:00:00.001Z"}\n'
    )
    (folder / session / "subagents").mkdir(parents=True)
    (folder / f"{session}.jsonl").write_text(progress)
    (folder / session / "subagents" / f"agent-{agent}.jsonl").write_text(
        subagent_line(10, "2026-02-10T10:00:00.000Z") + subagent_line(300, "2026-02-10T10:00:01.000Z")
    )
    write_directory(
        paths.directory,
        orgs=[("spotter", "Spotter", "UTC")],
        users=[("spotter", "u-dev", EMAIL, "Developer", "Core", "", "admin")],
        projects=[],
    )
    build_warehouse(paths)
    theirs = ccusage_daily(paths.raw_dir, "UTC", ccusage_command())
    assert {key: value["outputTokens"] for key, value in theirs.items()} == {("2026-02-10", HAIKU): 10}
    assert fetch(paths, "select count(*), sum(output_tokens) from analytics.fct_model_requests") == [(1, 300)]
