"""Render reports to HTML and PDF: `<reports-dir>/<org>/<week>/{users,managers,org}/<id>.{html,pdf}` + manifest.json.

The org and user ids in those paths are their `reports.weekly.paths.safe_name`s (a plain lowercase id as it is, any
other id as a readable slug plus a hash), and every path is checked to stay inside the reports dir.

The HTML is self-contained (inline CSS and SVG, no network). The PDF is WeasyPrint's rendering of the same
HTML with the same stylesheet (print rules: A4, running header, page numbers). One parsed stylesheet and one
FontConfiguration serve every PDF of a process, and many reports render in a pool of worker processes, each
with its own read-only warehouse connection. Workers die with the process that started them.

One report that fails to render never stops the others: it is logged, listed under `failed` in the manifest
(with no files) and in the outcome. A full run builds the week in a temporary folder (`.<week>-rendering-<pid>-*`)
and swaps it in; it replaces only a week folder that this product wrote (one with our manifest), and removes the
temporary and retired folders that a killed run left behind.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.analytics import formatting as fmt
from reports.analytics.query import AnalyticsQueries, connect_read_only
from reports.analytics.scope import AUDIENCE_FOLDERS, Directory, ScopeError
from reports.analytics.weeks import ReportWeek
from reports.web.links import week_link
from reports.weekly.content import NO_TEAM, TREND_WEEKS, ReportContent, build_report
from reports.weekly.paths import UnsafePathError, join_inside, safe_name

log = logging.getLogger(__name__)


class _SvgStyleNoise(logging.Filter):
    """WeasyPrint's CSS parser logs every SVG presentation property of matplotlib's inline styles
    (`fill`, `stroke`, ...) as ignored, although its SVG renderer applies them: drop those lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg.startswith("Ignored `") and "unknown property" in str(record.args[-1:]))


logging.getLogger("weasyprint").addFilter(_SvgStyleNoise())

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MANIFEST_NAME = "manifest.json"
FORMATS = ("html", "pdf")


class ReportError(LookupError):
    """A report that cannot be made as asked (unknown org or user, a role that does not allow it, a week folder
    that is not ours to replace)."""


@dataclass(frozen=True)
class ReportTask:
    audience: str
    user_id: str


@dataclass(frozen=True)
class RenderedFile:
    file: str  # relative to the week folder
    audience: str
    format: str
    recipient_user_id: str
    recipient_email: str | None
    recipient_name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class FailedReport:
    """A report that could not be rendered, and why (the manifest lists it under `failed`, with no files)."""

    audience: str
    recipient_user_id: str
    error: str


@dataclass(frozen=True)
class Manifest:
    files: list[RenderedFile]
    failed: list[FailedReport]


@dataclass(frozen=True)
class RenderOutcome:
    week_dir: Path
    manifest: Path
    files: list[RenderedFile]
    failed: list[FailedReport]


class Renderer:
    """Templates, the stylesheet and the fonts, loaded once per process."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Every value a page prints (names of people, orgs, teams, projects) as plain one-line text; markup
            # (the charts' SVG, the stylesheet) is ours and passes as it is.
            finalize=_page_text,
        )
        self.env.filters.update(
            usd=fmt.usd, compact=fmt.compact, integer=fmt.integer, duration=fmt.duration, percent=fmt.percent
        )
        self.template = self.env.get_template("report.html.j2")
        self.css_text = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")

    @cached_property
    def _weasyprint(self):
        # Imported on first PDF: WeasyPrint takes a second to import and HTML-only callers do not need it.
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        return HTML, CSS(string=self.css_text, font_config=fonts), fonts

    def html(self, content: ReportContent, inline_css: bool = True) -> str:
        return self.template.render(
            c=content,
            css=Markup(self.css_text if inline_css else ""),
            trend_weeks=TREND_WEEKS,
            no_team=NO_TEAM,
            # The same week in the dashboard, where SESSION_ANALYTICS_DASHBOARD_URL names it (else no link).
            dashboard_url=week_link(content.org_id, content.week.start, content.week.end),
        )

    def pdf(self, content: ReportContent) -> bytes:
        html_class, stylesheet, fonts = self._weasyprint
        # The same page, with each chart's SVG as a data: URL image instead of inline markup: WeasyPrint draws
        # both alike, but it would first run every inline SVG element through the HTML style cascade (and then
        # parse the SVG again), a third of the PDF time of a report.
        printed = replace(
            content, charts={name: replace(chart, svg=_svg_image(chart.svg)) for name, chart in content.charts.items()}
        )
        document = html_class(string=self.html(printed, inline_css=False), base_url=str(TEMPLATES_DIR))
        return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def _page_text(value):
    return fmt.display_text(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _svg_image(svg: str) -> str:
    return f'<img alt="" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode("utf-8")).decode("ascii")}">'


# -- planning ---------------------------------------------------------------------------------------------


def plan_reports(directory: Directory, user_id: str | None = None, manager_id: str | None = None) -> list[ReportTask]:
    """The reports to render: one user's, one manager's, or (neither given) every report of the org."""
    try:
        if user_id is not None:
            directory.scope_for("user", user_id)
            return [ReportTask("user", user_id)]
        if manager_id is not None:
            directory.scope_for("manager", manager_id)
            return [ReportTask("manager", manager_id)]
    except ScopeError as error:
        raise ReportError(str(error)) from None
    return [
        ReportTask(audience, person.user_id)
        for audience in AUDIENCE_FOLDERS
        for person in directory.recipients(audience)
    ]


def report_path(audience: str, user_id: str, extension: str) -> str:
    """Where a report goes inside its week folder (`users/<safe name of the user id>.html`)."""
    return f"{AUDIENCE_FOLDERS[audience]}/{safe_name(user_id)}.{extension}"


def report_file(week_dir: Path, relative: str) -> Path:
    """A report_path inside a week folder, checked to stay inside it."""
    return join_inside(week_dir, *relative.split("/"))


def report_week_dir(reports_dir: Path, org_id: str, week: ReportWeek) -> Path:
    """`<reports-dir>/<safe name of the org id>/<ISO week>`, checked to stay inside the reports dir."""
    try:
        return join_inside(reports_dir, safe_name(org_id), week.label)
    except UnsafePathError as error:
        raise ReportError(f"cannot write the reports of org {org_id!r}: {error}") from None


# -- rendering --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    warehouse: str
    org_id: str
    week: ReportWeek
    week_dir: str


class _ReportWriter:
    """Everything one process needs to render reports of one org and week (a worker builds one)."""

    def __init__(self, job: _Job):
        self.job = job
        self.renderer = Renderer()
        self.conn = connect_read_only(job.warehouse)
        self.queries = AnalyticsQueries(self.conn)
        self.directory = Directory.load(self.conn, job.org_id)
        self.org_name, self.time_zone = org_identity(self.queries, job.org_id)

    def render(self, task: ReportTask) -> tuple[list[RenderedFile], FailedReport | None]:
        """Write one report's files; a failure of this report is returned (and logged), never raised."""
        try:
            return self._write(task), None
        except Exception as error:
            log.exception(
                "%s %s: the %s report of %r was not rendered",
                self.job.org_id,
                self.job.week.label,
                task.audience,
                task.user_id,
            )
            for extension in FORMATS:  # no half-written or outdated file of the report stays
                self._target(report_path(task.audience, task.user_id, extension)).unlink(missing_ok=True)
            return [], FailedReport(task.audience, task.user_id, _error_text(error))

    def _write(self, task: ReportTask) -> list[RenderedFile]:
        content = build_report(
            self.queries, self.directory, self.org_name, self.time_zone, self.job.week, task.audience, task.user_id
        )
        recipient = content.recipient
        outputs = {"html": self.renderer.html(content).encode("utf-8"), "pdf": self.renderer.pdf(content)}
        files = []
        for extension, data in outputs.items():
            relative = report_path(task.audience, task.user_id, extension)
            target = self._target(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files.append(
                RenderedFile(
                    file=relative,
                    audience=task.audience,
                    format=extension,
                    recipient_user_id=task.user_id,
                    recipient_email=recipient.email,
                    recipient_name=recipient.display_name,
                    sha256=hashlib.sha256(data).hexdigest(),
                    bytes=len(data),
                )
            )
        return files

    def _target(self, relative: str) -> Path:
        return report_file(Path(self.job.week_dir), relative)

    def close(self) -> None:
        self.conn.close()


def _error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 500 else text[:499] + "…"


_worker: _ReportWriter | None = None


def _start_worker(job: _Job, parent_pid: int) -> None:
    global _worker
    _exit_with_parent(parent_pid)
    _worker = _ReportWriter(job)


def _render_in_worker(task: ReportTask) -> tuple[list[RenderedFile], FailedReport | None]:
    assert _worker is not None, "worker not initialised"
    return _worker.render(task)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _exit_with_parent(parent_pid: int) -> None:
    """Make this worker end when the process that started it ends: a killed `deliver` or `report` (kill -9 runs
    no cleanup) would otherwise leave its workers rendering, or waiting on a queue nobody writes, for good. On
    Linux the kernel kills the worker with its parent (PR_SET_PDEATHSIG); everywhere, a watchdog thread exits
    once the parent is gone (the worker is then re-parented, so its parent pid changes)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the watchdog still stands
    if os.getppid() != parent_pid:  # the parent died while this process started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(1)


def render_reports(
    warehouse: Path,
    output_dir: Path,
    org_id: str,
    week: ReportWeek | None = None,
    user_id: str | None = None,
    manager_id: str | None = None,
    workers: int | None = None,
    tasks: list[ReportTask] | None = None,
) -> RenderOutcome:
    """Render the reports asked for (all of the org's by default) and update the week's manifest.

    A full run replaces the week folder as a whole (a report of someone who lost a role disappears); a run for
    one user or manager, or for the given `tasks` (e.g. the reports a delivery finds missing), replaces only
    those reports' files and their manifest entries. Reports that fail are in the outcome's `failed` (the others
    are written); a ReportError says why nothing could be rendered (unknown org, user or role; a week folder
    that is not ours).
    """
    require_warehouse(warehouse)
    with connect_read_only(warehouse) as conn:
        queries = AnalyticsQueries(conn)
        _, time_zone = org_identity(queries, org_id)  # raises for an unknown org
        week = week or ReportWeek.latest_complete(time_zone)
        full_run = user_id is None and manager_id is None and tasks is None
        if tasks is None:
            tasks = plan_reports(Directory.load(conn, org_id), user_id, manager_id)

    final_dir = report_week_dir(output_dir, org_id, week)
    _require_ours(final_dir, org_id, week)
    org_dir = final_dir.parent
    org_dir.mkdir(parents=True, exist_ok=True)
    _remove_left_behind(org_dir)
    job = _Job(str(warehouse), org_id, week, str(final_dir))
    if full_run:
        # The creating pid in the name: a later run knows the folder is a leftover once that process is gone.
        work_dir = Path(tempfile.mkdtemp(prefix=f".{week.label}-rendering-{os.getpid()}-", dir=org_dir))
        job = replace(job, week_dir=str(work_dir))
    elif not final_dir.exists():
        # A manifest first, so that the folder is known as ours even if this run is killed half-way.
        final_dir.mkdir()
        _write_manifest(final_dir, job, Manifest([], []))
    try:
        results = _render_all(job, tasks, workers)
        files = [file for written, _ in results for file in written]
        failed = [failure for _, failure in results if failure is not None]
        if full_run:
            _write_manifest(work_dir, job, Manifest(files, failed))
            _replace_dir(work_dir, final_dir, org_id, week)
        else:
            _write_manifest(final_dir, job, _merge(read_manifest(final_dir), files, failed))
    except BaseException:
        if full_run:
            shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return RenderOutcome(final_dir, final_dir / MANIFEST_NAME, files, failed)


def _render_all(
    job: _Job, tasks: list[ReportTask], workers: int | None
) -> list[tuple[list[RenderedFile], FailedReport | None]]:
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    if workers == 1:
        writer = _ReportWriter(job)
        try:
            return [writer.render(task) for task in tasks]
        finally:
            writer.close()
    # spawn, not fork: the parent may run threads (Dagster) and hold DuckDB state that must not be copied.
    context = multiprocessing.get_context("spawn")
    # The longest reports first and small chunks, so that no worker is left alone with a long tail of team
    # reports (listed after the users') while the other core idles.
    ordered = sorted(tasks, key=lambda task: _RENDER_ORDER[task.audience])
    chunk = max(1, min(4, len(tasks) // (workers * 8)))
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(job, os.getpid())
    ) as pool:
        return list(pool.map(_render_in_worker, ordered, chunksize=chunk))


# Org and team reports have a page per ~40 people in their tables; a personal report is two pages.
_RENDER_ORDER = {"org": 0, "manager": 1, "user": 2}


def require_warehouse(warehouse: Path) -> None:
    if not Path(warehouse).exists():
        raise ReportError(f"no warehouse at {warehouse}; run `session-analytics refresh` first")


def org_identity(queries: AnalyticsQueries, org_id: str) -> tuple[str, str]:
    """The org's display name (plain one-line text) and time zone; a ReportError naming the known orgs when it
    is unknown."""
    org = queries.org(org_id)
    if org is None:
        known = ", ".join(map(repr, queries.org_ids())) or "none"
        raise ReportError(f"unknown org {org_id!r}; the warehouse has: {known}")
    return fmt.display_text(org["name"] or org_id), org["time_zone"]


# -- manifest and week folders ------------------------------------------------------------------------------


def _write_manifest(week_dir: Path, job: _Job, manifest: Manifest) -> None:
    content = {
        "org_id": job.org_id,
        "week": job.week.label,
        "week_start": job.week.start.isoformat(),
        "week_end": job.week.end.isoformat(),
        "files": [file.__dict__ for file in sorted(manifest.files, key=lambda f: f.file)],
        "failed": [failure.__dict__ for failure in sorted(manifest.failed, key=_report_key)],
    }
    target = join_inside(week_dir, MANIFEST_NAME)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, target)


def read_manifest(week_dir: Path) -> Manifest:
    path = week_dir / MANIFEST_NAME
    if not path.exists():
        return Manifest([], [])
    content = json.loads(path.read_text(encoding="utf-8"))
    return Manifest(
        [RenderedFile(**entry) for entry in content["files"]],
        [FailedReport(**entry) for entry in content.get("failed", [])],
    )


def _report_key(report: RenderedFile | FailedReport) -> tuple[str, str]:
    return report.audience, report.recipient_user_id


def _merge(existing: Manifest, files: list[RenderedFile], failed: list[FailedReport]) -> Manifest:
    """The manifest after rendering some reports again: their new files or failures replace their old entries."""
    redone = set(map(_report_key, files)) | set(map(_report_key, failed))
    return Manifest(
        [file for file in existing.files if _report_key(file) not in redone] + files,
        [failure for failure in existing.failed if _report_key(failure) not in redone] + failed,
    )


def _is_ours(week_dir: Path, org_id: str, week: ReportWeek) -> bool:
    """A week folder this product wrote: it holds our manifest of that org and week (or nothing at all)."""
    if week_dir.is_symlink() or not week_dir.is_dir():
        return False
    try:
        manifest = json.loads((week_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return not any(week_dir.iterdir())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("org_id") == org_id and manifest.get("week") == week.label


def _require_ours(week_dir: Path, org_id: str, week: ReportWeek) -> None:
    if (week_dir.exists() or week_dir.is_symlink()) and not _is_ours(week_dir, org_id, week):
        raise ReportError(
            f"{week_dir} is not a week folder that session-analytics wrote (no manifest of org {org_id!r}, week "
            f"{week.label}): it is left as it is; move it away or choose another reports dir"
        )


def _replace_dir(source: Path, target: Path, org_id: str, week: ReportWeek) -> None:
    """Swap a freshly rendered week folder into place (readers see the old or the new folder, whole)."""
    source.chmod(0o755)  # mkdtemp creates 0700
    if target.exists() or target.is_symlink():
        _require_ours(target, org_id, week)  # checked again: something may have appeared there meanwhile
        retired = target.with_name(f".{target.name}-retired-{os.getpid()}-{secrets.token_hex(4)}")
        os.replace(target, retired)
        os.replace(source, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(source, target)


# A full run's temporary folder and a replaced week folder, named with the pid of the run that made them.
_LEFT_BEHIND = re.compile(r"\.\d{4}-W\d{2}-(?:rendering|retired)-(?P<pid>\d+)-\w+")


def _remove_left_behind(org_dir: Path) -> None:
    """Remove the temporary and retired week folders of runs whose process is gone (what a killed run left)."""
    for entry in org_dir.iterdir():
        found = _LEFT_BEHIND.fullmatch(entry.name)
        if found and not entry.is_symlink() and entry.is_dir() and not _running(int(found["pid"])):
            log.info("removing %s, left by a run that did not finish", entry)
            shutil.rmtree(entry, ignore_errors=True)


def _running(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return True  # never ours to judge: another thread of this process may be rendering
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
