"""`session-analytics bench`: the performance figures of the nightly job, measured on generated data.

Every figure is measured in this run on this machine; ratios compare two measurements of the same run, so a
noisy shared machine moves both sides. Cheap figures are the median of `--repeat` runs. The table is printed
and written into BENCHMARKS.md between the markers below, with the machine, the versions and the command, so
the method and the findings (written by hand around the markers) stay beside the latest figures.

Sizes: `--requests` model requests for the full build (default 1M; `--large` = 10M). The generator writes
about REQUESTS_PER_USER_DAY requests per user and day, so the user count follows from the size and the days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform as host
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import psutil

from orchestration.bench import ccusage_parity
from orchestration.bench.serving import (
    API_ENDPOINTS,
    API_READERS,
    ApiChoices,
    api_readers,
    free_port,
    main_org_id,
    model_requests,
    paths_env,
    wait_for_server,
)
from orchestration.config import Paths
from orchestration.ingest import claude_code, platform


def _generator():
    """The sample generator, imported when a benchmark runs, not when the command line is built."""
    from orchestration.sample import generator

    return generator


REQUESTS_PER_USER_DAY = 60  # measured on the generator: 200 users x 56 days gave 668,023 requests
FULL_BUILD_DAYS = 30
# The org of the issue: 1,000 people. Beyond what they make in FULL_BUILD_DAYS, the window grows instead (the
# generator also has only so many distinct names): 10M requests are 1,000 people over 167 days.
MAX_FULL_BUILD_USERS = 1000
INCREMENTAL_HISTORIES = (30, 365)
INCREMENTAL_USERS = 12
TRANSCRIPT_USERS = 170  # with every user collecting transcripts: about 1.1 GB of transcripts over 30 days
TRANSCRIPT_TIMEZONE = "Europe/Berlin"  # the sample org's zone: days are compared in it
LOCAL_CCUSAGE = Path(".tools/node_modules/.bin/ccusage")  # installed by `make test`/`make bench`
REPORT_ORG_PEOPLE = 1000  # benchmark 5: people of the org whose reports are rendered
API_REQUESTS_PER_ENDPOINT = 200  # benchmark 6: requests per endpoint
MARK_BEGIN, MARK_END = "<!-- bench:begin -->", "<!-- bench:end -->"
VERSIONED = ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "weasyprint", "dbt-spark", "pyspark")


@dataclass
class Figure:
    benchmark: str
    measure: str
    value: str
    note: str = ""


@dataclass
class Bench:
    work_dir: Path
    requests: int
    repeat: int
    histories: tuple[int, int] = INCREMENTAL_HISTORIES
    transcript_users: int = TRANSCRIPT_USERS
    report_people: int = REPORT_ORG_PEOPLE
    api_requests: int = API_REQUESTS_PER_ENDPOINT
    figures: list[Figure] = field(default_factory=list)

    def add(self, benchmark: str, measure: str, value: str, note: str = "") -> None:
        self.figures.append(Figure(benchmark, measure, value, note))
        print(f"  {benchmark:<28} {measure:<34} {value:>14}  {note}", flush=True)


# -- measuring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_bytes: int


def run_measured(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run a command; wall time and the peak of the summed RSS of its whole process tree (polled every 50 ms)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    root = psutil.Process(process.pid)
    while process.poll() is None:
        peak = max(peak, _tree_rss(root))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{''.join(output)[-4000:]}")
    return Measurement(seconds, peak)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def median_of(repeat: int, function: Callable[[], float]) -> float:
    return statistics.median(function() for _ in range(repeat))


# -- the data -------------------------------------------------------------------------------------------------


def sample_paths(root: Path) -> Paths:
    return Paths.resolve(
        raw_dir=root / "raw", directory=root / "directory", warehouse=root / "warehouse.duckdb", lake_dir=root / "lake"
    )


def users_for(requests: int, days: int) -> int:
    return max(8, round(requests / (REQUESTS_PER_USER_DAY * days)))


def full_build_shape(requests: int) -> tuple[int, int]:
    """(users, days) of the full-build sample: FULL_BUILD_DAYS days, or more days of MAX_FULL_BUILD_USERS."""
    users = users_for(requests, FULL_BUILD_DAYS)
    if users <= MAX_FULL_BUILD_USERS:
        return users, FULL_BUILD_DAYS
    return MAX_FULL_BUILD_USERS, round(requests / (REQUESTS_PER_USER_DAY * MAX_FULL_BUILD_USERS))


def generate_cached(root: Path, users: int, days: int, end_date: dt.date) -> Paths:
    """The full-build sample, generated once per shape and kept: generating 10M requests takes minutes (about
    a minute per million on 2 cores), longer than the build it feeds. What a refresh wrote is removed."""
    paths = sample_paths(root)
    marker = root / "generated.json"
    shape = json.dumps({"users": users, "days": days, "end_date": end_date.isoformat(), "seed": 11})
    if marker.exists() and marker.read_text() == shape:
        for built in (paths.lake_dir, paths.working_warehouse.parent):
            shutil.rmtree(built, ignore_errors=True)
        paths.warehouse.unlink(missing_ok=True)
        return paths
    generate(root, users, days, end_date)
    marker.write_text(shape)
    return paths


def generate(
    root: Path, users: int, days: int, end_date: dt.date, sources: tuple[str, ...] = ("platform",), **options
) -> Paths:
    """Platform events by default: the full-build and incremental figures are about the platform pipeline."""
    paths = sample_paths(root)
    if root.exists():
        shutil.rmtree(root)
    _generator().generate_sample(
        paths.raw_dir, paths.directory, users=users, days=days, seed=11, end_date=end_date, sources=sources, **options
    )
    return paths


def refresh_command(paths: Paths, full: bool) -> tuple[list[str], dict[str, str]]:
    command = [sys.executable, "-m", "orchestration.cli", "refresh"] + (["--full"] if full else [])
    return command, paths_env(paths)


def refresh(paths: Paths, full: bool) -> Measurement:
    command, env = refresh_command(paths, full)
    return run_measured(command, env=env)


def built_warehouse(bench: Bench, end_date: dt.date, paths: Paths | None) -> Paths:
    """The full build's warehouse, for benchmarks that read it: built (untimed) when the run has not built it."""
    if paths is None:
        paths = generate_cached(bench.work_dir / "full", *full_build_shape(bench.requests), end_date)
    if not paths.warehouse.exists():
        refresh(paths, full=True)
    return paths


# -- the benchmarks -------------------------------------------------------------------------------------------


def bench_full_build(bench: Bench, end_date: dt.date) -> Paths:
    paths = generate_cached(bench.work_dir / "full", *full_build_shape(bench.requests), end_date)
    measured = refresh(paths, full=True)
    built = model_requests(paths)
    bench.add("1 full load + build", "model requests", f"{built:,}")
    bench.add("1 full load + build", "wall time", f"{measured.seconds:,.1f} s")
    bench.add("1 full load + build", "requests per second", f"{built / measured.seconds:,.0f}")
    bench.add("1 full load + build", "peak RSS (process tree)", f"{measured.peak_rss_bytes / 2**30:,.2f} GiB")
    return paths


def bench_incremental(bench: Bench, end_date: dt.date) -> None:
    """One new delivery folder on top of 30 and of 365 days of history: the nightly run's cost."""
    medians = {}
    for days in bench.histories:
        paths = generate(bench.work_dir / f"history-{days}", INCREMENTAL_USERS, days + 1, end_date)
        newest = platform.delivery_dates(paths.raw_dir)[-1]
        held_back = paths.raw_dir.parent / "held-back"
        shutil.move(paths.raw_dir / "platform" / newest, held_back)
        refresh(paths, full=True)
        history = _snapshot(paths, paths.raw_dir.parent / "history-state")

        nights = []
        for night in range(bench.repeat):
            if night:  # undo the previous night: back to the history's state (a copy, not another full build)
                shutil.rmtree(paths.raw_dir / "platform" / newest)
                _restore(history, paths)
            shutil.copytree(held_back, paths.raw_dir / "platform" / newest)
            nights.append(refresh(paths, full=False).seconds)
        medians[days] = statistics.median(nights)
        bench.add(
            "2 nightly refresh, 1 new day",
            f"on {days} days of history",
            f"{medians[days]:,.1f} s",
            f"median of {bench.repeat}",
        )
    first, last = bench.histories
    bench.add(
        "2 nightly refresh, 1 new day",
        f"ratio {last} d / {first} d",
        f"{medians[last] / medians[first]:.2f}x",
        "target <= 1.5x",
    )


def _state_parts(paths: Paths) -> list[Path]:
    """What a refresh writes: the lake (with its load state), the working and the published warehouse."""
    return [paths.lake_dir, paths.working_warehouse, paths.warehouse]


def _snapshot(paths: Paths, folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    for index, part in enumerate(_state_parts(paths)):
        if part.is_dir():
            shutil.copytree(part, folder / str(index))
        elif part.exists():
            folder.joinpath(str(index)).mkdir(parents=True)
            shutil.copy2(part, folder / str(index) / part.name)
    return folder


def _restore(folder: Path, paths: Paths) -> None:
    for index, part in enumerate(_state_parts(paths)):
        saved = folder / str(index)
        if part.is_dir():
            shutil.rmtree(part)
        else:
            part.unlink(missing_ok=True)
            part.with_name(part.name + ".wal").unlink(missing_ok=True)
        if (saved / part.name).is_file():
            shutil.copy2(saved / part.name, part)
        elif saved.is_dir():
            shutil.copytree(saved, part)


def bench_load_vs_scan(bench: Bench, paths: Paths) -> None:
    """The platform loader alone (validation, quarantine, Parquet) against DuckDB counting the same files.

    Both run in this process, so besides wall time the CPU time of each (all threads) is compared too: on a
    machine shared with other jobs, CPU time is the steadier of the two."""
    files = sorted(
        str(p) for d in platform.delivery_dates(paths.raw_dir) for p in platform.delivery_files(paths.raw_dir, d)
    )
    load_wall, load_cpu = median_load(
        bench,
        lambda lake: platform.load_deliveries(paths.raw_dir, lake, platform.delivery_dates(paths.raw_dir), force=True),
    )

    def scan() -> tuple[float, float]:
        with duckdb.connect() as conn:
            return wall_and_cpu(
                lambda: conn.execute(
                    "select count(*) from read_json(?, format = 'newline_delimited', ignore_errors = true)", [files]
                ).fetchall()
            )

    scans = [scan() for _ in range(bench.repeat)]
    scan_wall, scan_cpu = (statistics.median(run[i] for run in scans) for i in (0, 1))
    note = f"median of {bench.repeat}"
    bench.add("3 load vs bare scan", "platform load step", f"{load_wall:,.1f} s", f"{note}; CPU {load_cpu:,.1f} s")
    bench.add("3 load vs bare scan", "read_json count(*)", f"{scan_wall:,.1f} s", f"{note}; CPU {scan_cpu:,.1f} s")
    bench.add("3 load vs bare scan", "ratio load / scan", f"{load_wall / scan_wall:.2f}x", "target <= 1.5x")
    bench.add("3 load vs bare scan", "ratio of CPU time", f"{load_cpu / scan_cpu:.2f}x", "same runs")


def median_load(bench: Bench, load_into: Callable[[Path], object]) -> tuple[float, float]:
    """Median wall and CPU seconds of `bench.repeat` loads, each into an empty scratch lake."""
    scratch_lake = bench.work_dir / "load-only-lake"
    runs = []
    for _ in range(bench.repeat):
        shutil.rmtree(scratch_lake, ignore_errors=True)
        runs.append(wall_and_cpu(lambda: load_into(scratch_lake)))
    return statistics.median(run[0] for run in runs), statistics.median(run[1] for run in runs)


def wall_and_cpu(function: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of this process (every thread, DuckDB's included)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - started, time.process_time() - cpu_started


def bench_transcripts(bench: Bench, end_date: dt.date) -> None:
    """Claude Code transcripts: our full refresh (load, deduplicate, build) against ccusage on the same folder."""
    paths = generate(
        bench.work_dir / "transcripts",
        bench.transcript_users,
        30,
        end_date,
        sources=("claude_code",),
        transcript_user_share=1.0,
    )
    size = sum(f.stat().st_size for f in (paths.raw_dir / "claude_code").rglob("*.jsonl"))
    ours_seconds = median_of(bench.repeat, lambda: refresh(paths, full=True).seconds)
    command = str(LOCAL_CCUSAGE.resolve()) if LOCAL_CCUSAGE.exists() else ccusage_parity.DEFAULT_CCUSAGE
    theirs: dict = {}

    def run_ccusage() -> float:
        return timed(lambda: theirs.update(ccusage_parity.ccusage_daily(paths.raw_dir, TRANSCRIPT_TIMEZONE, command)))

    ccusage_seconds = median_of(bench.repeat, run_ccusage)
    # The loader alone (read, validate, quarantine, Parquet), in this process, beside the whole refresh: where
    # the refresh's time goes, and the part that does what ccusage does (read and parse every line).
    load_wall, load_cpu = median_load(bench, lambda lake: claude_code.load_all(paths.raw_dir, lake, force=True))
    rows, identical = ccusage_parity.compare(
        ccusage_parity.warehouse_daily(paths.warehouse, TRANSCRIPT_TIMEZONE), theirs
    )
    label = "4 transcripts vs ccusage"
    bench.add(label, "transcript size", f"{size / 2**30:,.2f} GiB")
    bench.add(label, "refresh (load + dedup + build)", f"{ours_seconds:,.1f} s", f"median of {bench.repeat}")
    bench.add(
        label,
        f"ccusage {ccusage_parity.CCUSAGE_VERSION} daily",
        f"{ccusage_seconds:,.1f} s",
        f"median of {bench.repeat}",
    )
    bench.add(label, "ratio ours / ccusage", f"{ours_seconds / ccusage_seconds:.2f}x", "target <= 1x")
    bench.add(
        label,
        "transcript load step alone",
        f"{load_wall:,.1f} s",
        f"median of {bench.repeat}; CPU {load_cpu:,.1f} s; {load_wall / ccusage_seconds:.2f}x ccusage",
    )
    bench.add(label, "token totals", "identical" if identical else "DIFFER", f"{len(rows)} day/model rows")


# -- benchmarks 5 and 6: reports and the API ------------------------------------------------------------------

# The report week and the week before it (the KPI changes), ending on the Sunday that closes the report week.
REPORT_DAYS = 14


def bench_reports(bench: Bench, end_date: dt.date) -> None:
    """Every report of an org of `report_people` people for one week (each user's, each manager's and the
    org's; HTML and PDF), rendered the way the weekly asset does: `render_reports` with one worker per core."""
    from reports.analytics.weeks import ReportWeek
    from reports.weekly.render import render_reports

    sunday = end_date - dt.timedelta(days=end_date.isoweekday() % 7)
    paths = generate(bench.work_dir / "reports", _sample_people(bench.report_people), REPORT_DAYS, sunday)
    refresh(paths, full=True)
    week = ReportWeek.containing(sunday)
    workers = os.cpu_count() or 1
    started_cpu, started = _cpu_seconds(), time.perf_counter()
    outcome = render_reports(paths.warehouse, bench.work_dir / "reports" / "out", main_org_id(), week, workers=workers)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - started_cpu
    reports = [file for file in outcome.files if file.format == "pdf"]
    by_audience = {
        audience: sum(1 for f in reports if f.audience == audience) for audience in ("user", "manager", "org")
    }
    label = "5 reports, 1 week"
    bench.add(
        label,
        "reports (HTML + PDF each)",
        f"{len(reports):,}",
        f"{by_audience['user']:,} users, {by_audience['manager']:,} managers, {by_audience['org']} org; {week}",
    )
    bench.add(label, "wall time", f"{seconds:,.1f} s", f"{workers} worker processes; target < 180 s on 2 cores")
    bench.add(label, "reports per second", f"{len(reports) / seconds:,.2f}")
    bench.add(label, "CPU per report", f"{cpu / len(reports):,.3f} s", "all processes: the cost on an idle machine")


def _sample_people(main_org_people: int) -> int:
    """The sample's `--users` that gives its main org this many people (the rest go to the second org)."""
    from orchestration.sample import people  # the sample generator, imported when a benchmark runs

    users = round(main_org_people / (1 - people.SECOND_ORG_SHARE))
    while users - max(people.SECOND_ORG_MIN_USERS, round(users * people.SECOND_ORG_SHARE)) < main_org_people:
        users += 1
    return users


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the render pool's workers once it is shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_api(bench: Bench, paths: Paths) -> None:
    """Latency of each endpoint over HTTP against `session-analytics serve`, one request at a time, with
    random filters and readers of each role (admin, manager, member) on the full build's warehouse."""
    tokens_file = bench.work_dir / "api_tokens.sqlite3"
    tokens_file.unlink(missing_ok=True)
    readers = api_readers(paths.warehouse, tokens_file)
    port = free_port()
    env = {**paths_env(paths), "SESSION_ANALYTICS_TOKENS": str(tokens_file)}
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = wait_for_server(port, server)
        choices = ApiChoices.load(paths.warehouse)
        rng = random.Random(7)
        latencies: dict[str, list[float]] = {endpoint: [] for endpoint in API_ENDPOINTS}
        for _ in range(bench.api_requests):
            for endpoint in API_ENDPOINTS:
                reader = readers[rng.choice(API_READERS)]
                url = f"/{main_org_id()}/sessions/analytics/{endpoint}?" + urlencode(
                    choices.random_filters(rng, endpoint, reader), doseq=True
                )
                started = time.perf_counter()
                connection.request("GET", url, headers={"Authorization": f"Bearer {reader.secret}"})
                response = connection.getresponse()
                body = response.read()
                latencies[endpoint].append(time.perf_counter() - started)
                if response.status != 200:
                    raise RuntimeError(f"GET {url} as {reader.user_id}: {response.status} {body[:300]!r}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    label = "6 API latency"
    bench.add(label, "model requests in the warehouse", f"{model_requests(paths):,}")
    for endpoint, samples in latencies.items():
        percentiles = statistics.quantiles(samples, n=100, method="inclusive")
        bench.add(
            label,
            f"{endpoint} p50 / p95",
            f"{percentiles[49] * 1000:,.1f} / {percentiles[94] * 1000:,.1f} ms",
            f"{len(samples)} requests; target p95 < 50 ms",
        )


# -- output ---------------------------------------------------------------------------------------------------


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    versions = ", ".join(f"{name} {_version(name)}" for name in VERSIONED)
    return (
        f"{os.cpu_count()} cores ({host.processor() or host.machine()}), {memory:.0f} GiB RAM, "
        f"{host.system()} {host.release()}, Python {host.python_version()}; {versions}"
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def table(figures: list[Figure]) -> str:
    lines = ["| benchmark | measure | value | note |", "| --- | --- | ---: | --- |"]
    lines += [f"| {f.benchmark} | {f.measure} | {f.value} | {f.note} |" for f in figures]
    return "\n".join(lines)


def write_report(path: Path, bench: Bench, command: str) -> None:
    """Rewrite, between the markers, the sections of the benchmarks this run measured; the other benchmarks'
    sections (from earlier runs) stay, each with its own date, command and machine, so runs of a few
    benchmarks at a time add up to the whole table."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{MARK_BEGIN}\n{MARK_END}\n"
    if MARK_BEGIN not in text:
        text += f"\n{MARK_BEGIN}\n{MARK_END}\n"
    head, rest = text.split(MARK_BEGIN, 1)
    body, tail = rest.split(MARK_END, 1) if MARK_END in rest else (rest, "")
    sections = _sections(body)
    stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{command}`\n\nMachine: {machine()}"
    for name in BENCHMARKS:
        figures = [figure for figure in bench.figures if _benchmark_key(figure) == name]
        if figures:
            sections[name] = f"{_section_mark(name)}\n{stamp}\n\n{table(figures)}\n"
    block = "\n".join(sections[name] for name in BENCHMARKS if name in sections)
    path.write_text(f"{head}{MARK_BEGIN}\n{block}{MARK_END}{tail}", encoding="utf-8")


def _section_mark(name: str) -> str:
    return f"<!-- bench:{name} -->"


def _sections(body: str) -> dict[str, str]:
    """The per-benchmark sections of a report block (text before the first section mark is dropped)."""
    parts = re.split(r"^<!-- bench:([a-z]+) -->\n", body, flags=re.MULTILINE)
    return {
        name: f"{_section_mark(name)}\n{section.rstrip()}\n"
        for name, section in zip(parts[1::2], parts[2::2])
        if name in BENCHMARKS
    }


def _benchmark_key(figure: Figure) -> str:
    """Figures are titled '<number> <what>', the number being the benchmark's place in BENCHMARKS."""
    return BENCHMARKS[int(figure.benchmark.split()[0]) - 1]


BENCHMARKS = ("full", "incremental", "load", "transcripts", "reports", "api", "spark", "dashboard", "budgets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="session-analytics bench", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=1_000_000, help="model requests of the full build")
    parser.add_argument("--large", action="store_true", help="10M model requests")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cheap figure (the median is shown)")
    parser.add_argument(
        "--history-days",
        type=_pair,
        default=INCREMENTAL_HISTORIES,
        metavar="SHORT,LONG",
        help="days of history under the nightly refresh (default 30,365)",
    )
    parser.add_argument(
        "--transcript-users",
        type=int,
        default=TRANSCRIPT_USERS,
        help="users collecting transcripts (170 gives about 1.1 GB)",
    )
    parser.add_argument(
        "--report-people",
        type=int,
        default=REPORT_ORG_PEOPLE,
        help="people of the org whose weekly reports are rendered (default 1000)",
    )
    parser.add_argument(
        "--api-requests",
        type=int,
        default=API_REQUESTS_PER_ENDPOINT,
        help="timed API requests per endpoint (default 200)",
    )
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these (repeatable)")
    parser.add_argument("--work-dir", type=Path, default=Path("data/bench"))
    parser.add_argument("--report", type=Path, default=Path("BENCHMARKS.md"), help="'-' to skip writing it")


def _pair(text: str) -> tuple[int, int]:
    try:
        short, long = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two day counts like 30,365, got {text!r}") from None
    return short, long


def run(args: argparse.Namespace) -> int:
    requests = 10_000_000 if args.large else args.requests
    bench = Bench(
        args.work_dir.resolve(),
        requests,
        args.repeat,
        args.history_days,
        args.transcript_users,
        args.report_people,
        args.api_requests,
    )
    selected = set(args.only or BENCHMARKS)
    end_date = dt.date.today() - dt.timedelta(days=1)
    print(f"Benchmarks on {machine()}", flush=True)
    paths = None
    if "full" in selected or "load" in selected:
        paths = (
            bench_full_build(bench, end_date)
            if "full" in selected
            else generate_cached(bench.work_dir / "full", *full_build_shape(requests), end_date)
        )
    if "incremental" in selected:
        bench_incremental(bench, end_date)
    if "load" in selected and paths is not None:
        bench_load_vs_scan(bench, paths)
    if "transcripts" in selected:
        bench_transcripts(bench, end_date)
    if "reports" in selected:
        bench_reports(bench, end_date)
    if "api" in selected:
        bench_api(bench, built_warehouse(bench, end_date, paths))
    if "spark" in selected:  # the sample on Spark against DuckDB (orchestration/bench/spark.py)
        from orchestration.bench.spark import bench_spark

        bench_spark(bench, end_date)
    if "dashboard" in selected:  # time to a complete page per view (orchestration/bench/dashboard.py)
        from orchestration.bench.dashboard import bench_dashboard

        label = f"{BENCHMARKS.index('dashboard') + 1} dashboard pages"  # figures are titled by number
        bench_dashboard(bench, built_warehouse(bench, end_date, paths), label)
    if "budgets" in selected:  # the forecast's backtest on the sample's history (orchestration/bench/budgets.py)
        from orchestration.bench.budgets import bench_budgets

        bench_budgets(bench, end_date)
    print()
    print(table(bench.figures))
    if str(args.report) != "-":
        write_report(args.report, bench, "session-analytics bench " + " ".join(sys.argv[2:]))
        print(f"\nwritten to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
