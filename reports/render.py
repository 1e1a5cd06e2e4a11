"""Render reports to HTML and PDF: `<reports-dir>/<org>/<week>/{users,managers,org}/<id>.{html,pdf}` + manifest.json.

The HTML is self-contained (inline CSS and SVG, no network). The PDF is WeasyPrint's rendering of the same
HTML with the same stylesheet (print rules: A4, running header, page numbers). One parsed stylesheet and one
FontConfiguration serve every PDF of a process, and many reports render in a pool of worker processes, each
with its own read-only warehouse connection.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports import formatting as fmt
from reports.content import NO_TEAM, TREND_WEEKS, ReportContent, build_report
from reports.query import AnalyticsQueries, connect_read_only
from reports.scope import AUDIENCE_FOLDERS, Directory, ScopeError
from reports.weeks import ReportWeek

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
    """A report that cannot be made as asked (unknown org or user, a role that does not allow it)."""


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
class RenderOutcome:
    week_dir: Path
    manifest: Path
    files: list[RenderedFile]


class Renderer:
    """Templates, the stylesheet and the fonts, loaded once per process."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
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
            c=content, css=self.css_text if inline_css else "", trend_weeks=TREND_WEEKS, no_team=NO_TEAM
        )

    def pdf(self, content: ReportContent) -> bytes:
        html_class, stylesheet, fonts = self._weasyprint
        # The same page, with each chart's SVG as a data: URL image instead of inline markup: WeasyPrint draws
        # both alike, but it would first run every inline SVG element through the HTML style cascade (and then
        # parse the SVG again), a third of the PDF time of a report.
        printed = replace(content, charts={
            name: replace(chart, svg=_svg_image(chart.svg)) for name, chart in content.charts.items()
        })
        document = html_class(string=self.html(printed, inline_css=False), base_url=str(TEMPLATES_DIR))
        return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


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
    """Where a report goes inside its week folder; user ids become safe file names."""
    safe = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in user_id).lstrip(".") or "_"
    return f"{AUDIENCE_FOLDERS[audience]}/{safe}.{extension}"


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

    def write(self, task: ReportTask) -> list[RenderedFile]:
        content = build_report(
            self.queries, self.directory, self.org_name, self.time_zone, self.job.week, task.audience, task.user_id
        )
        recipient = content.recipient
        outputs = {"html": self.renderer.html(content).encode("utf-8"), "pdf": self.renderer.pdf(content)}
        files = []
        for extension, data in outputs.items():
            relative = report_path(task.audience, task.user_id, extension)
            target = Path(self.job.week_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files.append(
                RenderedFile(
                    file=relative, audience=task.audience, format=extension, recipient_user_id=task.user_id,
                    recipient_email=recipient.email, recipient_name=recipient.display_name,
                    sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
                )
            )
        return files

    def close(self) -> None:
        self.conn.close()


_worker: _ReportWriter | None = None


def _start_worker(job: _Job) -> None:
    global _worker
    _worker = _ReportWriter(job)


def _write_in_worker(task: ReportTask) -> list[RenderedFile]:
    assert _worker is not None, "worker not initialised"
    return _worker.write(task)


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
    those reports' files and their manifest entries.
    """
    require_warehouse(warehouse)
    with connect_read_only(warehouse) as conn:
        queries = AnalyticsQueries(conn)
        _, time_zone = org_identity(queries, org_id)  # raises for an unknown org
        week = week or ReportWeek.latest_complete(time_zone)
        full_run = user_id is None and manager_id is None and tasks is None
        if tasks is None:
            tasks = plan_reports(Directory.load(conn, org_id), user_id, manager_id)

    org_dir = Path(output_dir) / org_id
    final_dir = org_dir / week.label
    org_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f".{week.label}-", dir=org_dir)) if full_run else final_dir
    job = _Job(str(warehouse), org_id, week, str(work_dir))
    try:
        files = _render_all(job, tasks, workers)
        if full_run:
            _write_manifest(work_dir, job, files)
            _replace_dir(work_dir, final_dir)
        else:
            _write_manifest(final_dir, job, _merge(read_manifest(final_dir), files))
    except BaseException:
        if full_run:
            shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return RenderOutcome(final_dir, final_dir / MANIFEST_NAME, files)


def _render_all(job: _Job, tasks: list[ReportTask], workers: int | None) -> list[RenderedFile]:
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    if workers == 1:
        writer = _ReportWriter(job)
        try:
            return [file for task in tasks for file in writer.write(task)]
        finally:
            writer.close()
    # spawn, not fork: the parent may run threads (Dagster) and hold DuckDB state that must not be copied.
    context = multiprocessing.get_context("spawn")
    # The longest reports first and small chunks, so that no worker is left alone with a long tail of team
    # reports (listed after the users') while the other core idles.
    ordered = sorted(tasks, key=lambda task: _RENDER_ORDER[task.audience])
    chunk = max(1, min(4, len(tasks) // (workers * 8)))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(job,)) as pool:
        return [file for files in pool.map(_write_in_worker, ordered, chunksize=chunk) for file in files]


# Org and team reports have a page per ~40 people in their tables; a personal report is two pages.
_RENDER_ORDER = {"org": 0, "manager": 1, "user": 2}


def require_warehouse(warehouse: Path) -> None:
    if not Path(warehouse).exists():
        raise ReportError(f"no warehouse at {warehouse}; run `session-analytics refresh` first")


def org_identity(queries: AnalyticsQueries, org_id: str) -> tuple[str, str]:
    """The org's display name and time zone; a ReportError naming the known orgs when it is unknown."""
    org = queries.org(org_id)
    if org is None:
        raise ReportError(f"unknown org {org_id!r}; the warehouse has: {', '.join(queries.org_ids()) or 'none'}")
    return org["name"], org["time_zone"]


# -- manifest ---------------------------------------------------------------------------------------------


def _write_manifest(week_dir: Path, job: _Job, files: list[RenderedFile]) -> None:
    manifest = {
        "org_id": job.org_id,
        "week": job.week.label,
        "week_start": job.week.start.isoformat(),
        "week_end": job.week.end.isoformat(),
        "files": [file.__dict__ for file in sorted(files, key=lambda f: f.file)],
    }
    target = week_dir / MANIFEST_NAME
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, target)


def read_manifest(week_dir: Path) -> list[RenderedFile]:
    path = week_dir / MANIFEST_NAME
    if not path.exists():
        return []
    return [RenderedFile(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))["files"]]


def _merge(existing: list[RenderedFile], new: list[RenderedFile]) -> list[RenderedFile]:
    replaced = {file.file for file in new}
    return [file for file in existing if file.file not in replaced] + new


def _replace_dir(source: Path, target: Path) -> None:
    """Swap a freshly rendered week folder into place (readers see the old or the new folder, whole)."""
    source.chmod(0o755)  # mkdtemp creates 0700
    if target.exists():
        retired = target.with_name(f".{target.name}-retired-{os.getpid()}")
        os.replace(target, retired)
        os.replace(source, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(source, target)
