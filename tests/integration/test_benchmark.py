"""The benchmark harness at a tiny size (seconds, not minutes), so `make bench` keeps working.

The figures themselves are not asserted (they are measurements on a shared machine); what is checked is that each
benchmark really ran: the full build built the generated requests, the load and the bare scan both read the files,
our transcript figures equal ccusage's, and the table lands in the report between its markers without touching the
hand-written text around it, the API answered every timed request of each endpoint, and the reports benchmark
rendered a report for every person with a role, every manager and the admin. The nightly-vs-history benchmark is
left to `make bench`: it needs four refreshes, and tests/integration/test_production.py already checks the nightly
run against a full rebuild.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.bench import benchmark
from orchestration.cli import main
from tests.fixtures import REPO

CCUSAGE = REPO / ".tools/node_modules/.bin/ccusage"


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is installed by `make test`")
def test_small_benchmark_runs_every_measure_and_writes_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)  # where .tools/ccusage is found
    report = tmp_path / "BENCHMARKS.md"
    report.write_text(
        "# Benchmarks\n\nMethod, written by hand.\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\n"
        "## Findings\nkept\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    code = main(
        [
            "bench",
            "--requests",
            "2000",
            "--repeat",
            "1",
            "--transcript-users",
            "8",
            "--api-requests",
            "5",
            "--only",
            "full",
            "--only",
            "load",
            "--only",
            "transcripts",
            "--only",
            "api",
            "--work-dir",
            str(work),
            "--report",
            str(report),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out

    # the full build built every model request the generator wrote, counted independently from the raw files
    raw_requests = duckdb.sql(
        "select count(distinct json_extract_string(line, '$.event_id')) from read_csv(?, columns={'line': 'VARCHAR'},"
        " delim=chr(1), quote='', escape='', header=false, auto_detect=false)"
        " where try(json_extract_string(line, '$.event_type')) = 'model_request'"
        " and try(json_extract_string(line, '$.request_id')) is not null",
        params=[str(work / "full/raw/platform/*/*")],
    ).fetchall()[0][0]
    built = int(re.search(r"\| model requests \| ([\d,]+) \|", printed)[1].replace(",", ""))
    assert built > 1000
    assert abs(built - raw_requests) <= raw_requests * 0.01  # bad lines hold a few requests the loader rejects

    for measure in (
        "wall time",
        "requests per second",
        "peak RSS (process tree)",
        "platform load step",
        "read_json count(*)",
        "ratio load / scan",
        "refresh (load + dedup + build)",
        "transcript load step alone",
        "ratio ours / ccusage",
    ):
        assert re.search(rf"\| {re.escape(measure)} \| [\d,.]+ ?(?:s|x|GiB)? \|", printed), measure
    assert "| token totals | identical |" in printed
    # every timed API request answered 200 (the benchmark stops on any other status) for each endpoint
    for endpoint in ("summary", "timeseries", "by-agent", "cost-breakdown"):
        assert re.search(rf"\| {endpoint} p50 / p95 \| [\d,.]+ / [\d,.]+ ms \| 5 requests;", printed), endpoint

    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nMethod, written by hand.\n")
    assert text.endswith("## Findings\nkept\n")
    assert "old" not in text and "| ratio load / scan |" in text and "Machine: " in text
    assert re.findall(r"<!-- bench:(?!begin|end)([a-z]+) -->", text) == ["full", "load", "transcripts", "api"]


def test_a_run_of_some_benchmarks_keeps_the_other_benchmarks_figures(tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n\n## Findings\n", encoding="utf-8")
    first = benchmark.Bench(tmp_path, 1000, 1)
    first.add("1 full load + build", "wall time", "10.0 s")
    first.add("6 API latency", "summary p50 / p95", "1.0 / 2.0 ms")
    benchmark.write_report(report, first, "session-analytics bench --only full --only api")
    second = benchmark.Bench(tmp_path, 1000, 1)
    second.add("6 API latency", "summary p50 / p95", "3.0 / 4.0 ms")
    second.add("3 load vs bare scan", "ratio load / scan", "2.00x")
    benchmark.write_report(report, second, "session-analytics bench --only load --only api")

    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n<!-- bench:begin -->\n") and text.endswith(
        "<!-- bench:end -->\n\n## Findings\n"
    )
    assert re.findall(r"<!-- bench:(?!begin|end)([a-z]+) -->", text) == [
        "full",
        "load",
        "api",
    ]  # in the benchmarks' order
    assert "| 10.0 s |" in text and "| 2.00x |" in text and "| 3.0 / 4.0 ms |" in text
    assert "1.0 / 2.0 ms" not in text
    full, load = text.split("<!-- bench:load -->")
    assert "`session-analytics bench --only full --only api`" in full
    assert "`session-analytics bench --only load --only api`" in load


def test_small_reports_benchmark_renders_every_report_of_the_org(tmp_path, capsys):
    work = tmp_path / "work"
    code = main(["bench", "--report-people", "12", "--only", "reports", "--work-dir", str(work), "--report", "-"])
    assert code == 0
    printed = capsys.readouterr().out

    with duckdb.connect(str(work / "reports/warehouse.duckdb"), read_only=True) as conn:
        roles = dict(
            conn.execute(
                "select role, count(*) from analytics.dim_users where org_id = 'acme'"
                " and role is not null group by role"
            ).fetchall()
        )
    expected = {"user": sum(roles.values()), "manager": roles["manager"], "org": roles["admin"]}
    assert expected["user"] == 12
    reports = re.search(
        r"\| reports \(HTML \+ PDF each\) \| ([\d,]+) \| ([\d,]+) users, ([\d,]+) managers, (\d+) org", printed
    )
    assert [int(group) for group in reports.groups()] == [
        sum(expected.values()),
        expected["user"],
        expected["manager"],
        expected["org"],
    ]
    pdfs = list((work / "reports/out/acme").glob("*/*/*.pdf"))
    assert len(pdfs) == sum(expected.values()) and all(pdf.read_bytes().startswith(b"%PDF") for pdf in pdfs)
    for measure in ("wall time", "reports per second", "CPU per report"):
        assert re.search(rf"\| {measure} \| [\d,.]+ ?s? \|", printed), measure
