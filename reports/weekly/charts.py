"""The report charts: matplotlib's SVG backend, one visual style, text kept as text (fonts come from the CSS).

Every function takes figures already computed by the query code and returns a `Chart`: its title, which the page
sets as text above the drawing, and the drawing as an SVG string ready to inline in HTML (`Markup`). Ids inside each
SVG are derived from a per-chart salt, so several charts in one page never clash and the same data always gives the
same bytes (the manifest hashes stay stable).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("svg")

import re  # noqa: E402

from matplotlib import colormaps, font_manager, rc_context  # noqa: E402  (the backend must be chosen first)
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator  # noqa: E402

from reports.analytics import formatting as fmt  # noqa: E402

# One palette for every chart; the accent marks "this week" / the main series.
INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
ACCENT = "#2563eb"
ACCENT_SOFT = "#a9c1f5"
SERIES = ("#2563eb", "#0d9488", "#d97706", "#9333ea", "#dc2626", "#4b5563", "#65a30d", "#db2777")
HEAT = "Blues"

FULL_WIDTH_IN = 7.0
HALF_WIDTH_IN = 3.4
# Above the axes: room for the top tick label. The title sits on the page above the drawing, in the band that
# matplotlib's title took before (the drawing is that much shorter).
TOP_MARGIN_IN = 0.06
TITLE_BAND_IN = 0.26

STYLE = {
    "svg.fonttype": "none",
    # A list, so that matplotlib falls back per glyph: WenQuanYi covers CJK names (installed by `make`).
    # matplotlib only measures text with these fonts; the PDF and the browser draw it with the CSS fonts.
    "font.family": ["DejaVu Sans", "WenQuanYi Micro Hei"],
    "font.size": 8,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "text.color": INK,
    "figure.dpi": 72,
    # Labels are names from the data: `$5 and $10` is text, never mathtext (`$\frac{1}{$` would not even parse).
    "text.parse_math": False,
}


def _know_installed_fonts() -> None:
    """matplotlib caches the font list on first use; a font installed later (the CJK font `make` adds) is
    unknown to it until the cache is rebuilt. Add such fonts so text is measured with the right glyphs."""
    known = {font.fname for font in font_manager.fontManager.ttflist}
    if all(_font_known(family) for family in STYLE["font.family"]):
        return
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue


def _font_known(family: str) -> bool:
    try:
        font_manager.findfont(family, fallback_to_default=False)
        return True
    except ValueError:
        return False


_know_installed_fonts()
# WenQuanYi has no bold face; matplotlib would say so for any bold text. Nothing to act on.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

Formatter = Callable[[float], str]
UNIT_FORMATTERS: dict[str, Formatter] = {
    "sessions": fmt.compact,
    "cost": fmt.usd_short,
    "tokens": fmt.compact,
}


def _svg(figure: Figure, salt: str) -> str:
    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return _slim(text[text.index("<svg") :])


# WeasyPrint's time on a report goes mostly to the charts' SVG elements, each styled and drawn one by one, so
# the markup keeps only what is drawn. matplotlib names its groups figure_1, axes_1, ... in every chart
# (several charts in one page would repeat those ids; nothing refers to them: references go to the salted
# clip-path ids); without the id such a group has no attribute and no effect, so it goes, and so do the RDF
# metadata, empty groups, whitespace between tags and the `rotate(-0 x y)` transforms of unrotated text.
_GROUP_ID = re.compile(r'<g id="[^"]*"')
_GROUP_TAG = re.compile(r"<g(?=[\s>])[^>]*>|</g>")
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [^"]*\)"')
_EMPTY_GROUP = re.compile(r"<g/>")
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
# Set by matplotlib's `*` rule in the SVG's own stylesheet, which outranks presentation attributes: these stay
# in the style attribute, which outranks the rule.
_STYLESHEET_PROPERTIES = ("stroke-linejoin", "stroke-linecap")
_BETWEEN_TAGS = re.compile(r">\s+<")


def _presentation_attributes(style: re.Match) -> str:
    """`style="fill: #fff; stroke-linecap: square"` as `fill="#fff" style="stroke-linecap: square"`: the same
    drawing, without a CSS declaration parse per element in WeasyPrint (a chart's text is mostly such elements)."""
    attributes, kept = [], []
    for declaration in style.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name in _STYLESHEET_PROPERTIES:
            kept.append(f"{name}: {value}")
        elif name:
            attributes.append(f' {name}="{value}"')
    return "".join(attributes) + (f' style="{"; ".join(kept)}"' if kept else "")


def _slim(svg: str) -> str:
    svg = _NO_ROTATION.sub("", _METADATA.sub("", _GROUP_ID.sub("<g", svg)))
    svg = _BETWEEN_TAGS.sub("><", _EMPTY_GROUP.sub("", svg))
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)
    pieces, kept_open, position = [], [], 0
    for tag in _GROUP_TAG.finditer(svg):
        text = tag.group()
        if text == "</g>":
            keep = kept_open.pop()
        else:
            keep = text != "<g>"
            kept_open.append(keep)
        if not keep:
            pieces.append(svg[position : tag.start()])
            position = tag.end()
    pieces.append(svg[position:])
    return "".join(pieces)


_TEXT_MEASURE = TextToPath()


class _Canvas:
    """A figure and its axes, kept for the life of the process and drawn again for every chart of one kind.

    Making a figure, its axes and their ticks costs about as much as drawing them (each tick is five artists
    built from rcParams); a report draws ten charts and a batch thousands. A canvas keeps everything that is
    the same from one chart to the next (axes, ticks, grid, title and label texts, colour bar) and replaces only
    the data artists: `forget()` removes those of the previous chart, `keep()` registers the new ones. One
    process draws one chart at a time (worker processes, not threads: matplotlib is not thread-safe either).
    """

    def __init__(self, figure: Figure, axes):
        self.figure = figure
        self.axes = axes
        self._data_artists: list = []
        self.left_share = 0.0

    def forget(self) -> None:
        for artist in self._data_artists:
            artist.remove()
        self._data_artists = []
        # The data limits of the removed bars would otherwise widen the next chart's autoscaled axis.
        self.axes.relim()

    def keep(self, *artists) -> None:
        self._data_artists.extend(artists)

    def place(
        self, width: float, height: float, left: float, bottom: float, top: float = TOP_MARGIN_IN, right: float = 0.1
    ) -> None:
        """Size the figure and set fixed margins in inches. Fixed margins cost one draw; constrained layout or
        a tight bounding box would draw every chart two or three times."""
        self.figure.set_size_inches(width, height)
        self.left_share = left / width
        self.figure.subplots_adjust(
            left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
        )


_CANVASES: dict[tuple, _Canvas] = {}


@contextlib.contextmanager
def _canvas(kind: tuple, make: Callable[[], _Canvas]) -> Iterator[_Canvas]:
    """The process's canvas for one kind of chart, without the previous chart's data (made on first use, inside
    the chart's rc_context). Only a chart drawn to the end gives its canvas back: after an error half-way the
    canvas may hold data artists it does not know of, which must never show up in someone else's chart."""
    canvas = _CANVASES.pop(kind, None) or make()
    canvas.forget()
    yield canvas
    _CANVASES[kind] = canvas


def _bar_canvas() -> _Canvas:
    figure = Figure()
    figure.patch.set_visible(False)  # white on a white page: drawing it would add an element per chart
    axes = figure.add_subplot()
    axes.patch.set_visible(False)
    axes.tick_params(bottom=False, left=False)  # no tick marks: fewer SVG elements to draw twice
    return _Canvas(figure, axes)


def _hide_empty_bars(drawn, values: Sequence[float]) -> None:
    """A zero bar has no height to show; not drawing it keeps it out of the SVG."""
    for bar, value in zip(drawn, values):
        if not value:
            bar.set_visible(False)


@functools.lru_cache(maxsize=4096)
def _label_width(label: str) -> float:
    """Width in points of one tick label in the chart font (labels repeat a lot: "$1.2k", weekday names)."""
    with rc_context(STYLE), warnings.catch_warnings():
        # The measuring font has no CJK glyphs; its fallback box is about as wide as a CJK character.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        font = FontProperties(size=STYLE["font.size"])
        return _TEXT_MEASURE.get_text_width_height_descent(label, font, ismath=False)[0]


def _tick_width(labels: Sequence[str]) -> float:
    """Width in inches of the widest tick label, measured with the chart fonts (margins are fixed)."""
    return max(map(_label_width, labels), default=0.0) / 72


def _axis_formatter(formatter: Formatter) -> FuncFormatter:
    return FuncFormatter(lambda value, _position: formatter(value))


@dataclass(frozen=True)
class Chart:
    """A chart's title and its drawing. The title is the page's text, not the SVG's: WeasyPrint lays out and
    draws SVG text one letter at a time (each letter a text layout of its own), the costliest part of a PDF,
    while it sets page text a line at a time."""

    title: str
    svg: str
    title_indent: float = 0.0  # the axes' left edge as a share of the drawing's width: titles start there


@dataclass(frozen=True)
class Bars:
    """What a bar chart shows: a title, the value unit, one label and one value per bar."""

    title: str
    unit_label: str
    labels: Sequence[str]
    values: Sequence[float]
    formatter: Formatter
    integer: bool = False  # counts: keep the value axis on whole numbers
    highest_tick: float | None = None  # no tick above this value (a share's axis stops at 100%)


def _value_axis(axes, axis, bars: Bars, headroom: float) -> None:
    """Format the value axis for people, few ticks, room above the longest bar for its label."""
    axis.set_major_formatter(_axis_formatter(bars.formatter))
    locator = MaxNLocator(nbins=4, min_n_ticks=2, integer=bars.integer)
    if bars.highest_tick is not None:
        # The headroom for value labels stays; only the ticks stop (a share axis reading 120% looks wrong).
        locator = FixedLocator(locator.tick_values(0, bars.highest_tick))
    axis.set_major_locator(locator)
    top = max(bars.values, default=0)
    limit = (0, top * headroom if top > 0 else 1)
    axes.set_ylim(*limit) if axis is axes.yaxis else axes.set_xlim(*limit)


def period_bars(salt: str, bars: Bars, highlight: int | None = None, width: float = HALF_WIDTH_IN) -> Chart:
    """Vertical bars per day or per week with value labels; `highlight` marks one bar (the report week)."""
    with rc_context(STYLE), _canvas(("period", width), _bar_canvas) as canvas:
        tick_labels = [bars.formatter(v) for v in bars.values] + [bars.formatter(max(bars.values, default=0) * 1.2)]
        canvas.place(width, 1.85 - TITLE_BAND_IN, left=0.32 + _tick_width(tick_labels), bottom=0.26)
        axes = canvas.axes
        count = len(bars.values)
        colors = [ACCENT if highlight is None or index == highlight else ACCENT_SOFT for index in range(count)]
        drawn = axes.bar(range(count), bars.values, color=colors, width=0.68)
        _hide_empty_bars(drawn, bars.values)
        axes.set_xticks(range(len(bars.labels)), _labels(bars.labels))
        axes.set_ylabel(bars.unit_label)
        _value_axis(axes, axes.yaxis, bars, headroom=1.22)
        labels = axes.bar_label(
            drawn, labels=[bars.formatter(v) if v else "" for v in bars.values], padding=2, fontsize=6.5, color=INK
        )
        canvas.keep(drawn, *labels)
        return Chart(bars.title, _svg(canvas.figure, salt), canvas.left_share)


def _ranked_canvas() -> _Canvas:
    canvas = _bar_canvas()
    canvas.axes.tick_params(axis="y", colors=INK)
    return canvas


def ranked_bars(salt: str, bars: Bars, width: float = HALF_WIDTH_IN, color: str = ACCENT) -> Chart:
    """Horizontal bars in the given order from the top, each labelled with its value (cost by model,
    project, person; a distribution's buckets)."""
    with rc_context(STYLE | {"axes.grid.axis": "x"}), _canvas(("ranked", width), _ranked_canvas) as canvas:
        count = len(bars.values)
        shown = [_truncate(label, 26) for label in _labels(bars.labels)]
        canvas.place(
            width, 0.72 - TITLE_BAND_IN + 0.2 * max(count, 1), left=0.12 + _tick_width(shown), bottom=0.42, right=0.15
        )
        axes = canvas.axes
        positions = list(range(count))[::-1]
        drawn = axes.barh(positions, bars.values, color=color, height=0.62)
        _hide_empty_bars(drawn, bars.values)
        axes.set_yticks(positions, shown)
        axes.set_xlabel(bars.unit_label)
        _value_axis(axes, axes.xaxis, bars, headroom=1.3)
        axes.set_ylim(-0.6, count - 0.4)
        labels = axes.bar_label(
            drawn, labels=[bars.formatter(v) for v in bars.values], padding=3, fontsize=7, color=INK
        )
        canvas.keep(drawn, *labels)
        return Chart(bars.title, _svg(canvas.figure, salt), canvas.left_share)


class _Heatmap(_Canvas):
    """The weekday x hour canvas: cells, their white borders and the colour bar stay; each chart sets the
    busy cells, their colours and the scale."""

    def __init__(self):
        from reports.analytics.metrics import WEEKDAYS

        figure = Figure()
        figure.patch.set_visible(False)
        super().__init__(figure, figure.add_subplot())
        self.place(FULL_WIDTH_IN, 1.43, left=0.45, bottom=0.4, right=0.5)
        axes = self.axes
        self.shades = ScalarMappable(Normalize(0, 1), colormaps[HEAT])
        # Only the hours with sessions are drawn as cells, over a background of the zero colour, and one path
        # draws the white lines between all cells: a week of one person fills a few of the 168 cells, and each
        # drawn cell is one more SVG element for WeasyPrint.
        axes.set_facecolor(self.shades.to_rgba(0))
        self.cells = axes.add_collection(PolyCollection([], linewidths=0, clip_on=False))
        axes.add_patch(
            PathPatch(_cell_borders(24, 7), facecolor="none", edgecolor="white", linewidth=1.2, clip_on=False)
        )
        axes.set_xlim(0, 24)
        axes.set_ylim(0, 7)
        axes.invert_yaxis()
        axes.set_yticks([index + 0.5 for index in range(7)], WEEKDAYS)
        axes.set_xticks([hour + 0.5 for hour in range(0, 24, 2)], [f"{hour:02d}" for hour in range(0, 24, 2)])
        axes.set_xlabel("local start hour")
        self.colorbar = figure.colorbar(self.shades, ax=axes, fraction=0.03, pad=0.015, aspect=12)
        self.colorbar.set_label("sessions", color=MUTED)
        self.colorbar.outline.set_visible(False)
        self.colorbar.ax.tick_params(colors=MUTED, size=0)

    def scale(self, peak: int) -> None:
        self.shades.set_clim(0, max(peak, 1))
        # A new scale resets the colour bar's ticks to matplotlib's default: whole sessions only.
        self.colorbar.ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))


def weekday_hour_heatmap(salt: str, title: str, counts: Sequence[dict]) -> Chart:
    """Sessions by local weekday (rows, Monday on top) and start hour (columns)."""
    grid = [[0] * 24 for _ in range(7)]
    for cell in counts:
        grid[cell["weekday"] - 1][cell["hour"]] = cell["sessions"]
    with rc_context(STYLE | {"axes.grid": False}), _canvas(("heatmap",), _Heatmap) as heatmap:
        heatmap.scale(max(max(row) for row in grid))
        busy = [(hour, day, count) for day, row in enumerate(grid) for hour, count in enumerate(row) if count]
        heatmap.cells.set_verts(
            [[(hour, day), (hour + 1, day), (hour + 1, day + 1), (hour, day + 1)] for hour, day, _ in busy]
        )
        heatmap.cells.set_facecolors([heatmap.shades.to_rgba(count) for *_, count in busy])
        return Chart(title, _svg(heatmap.figure, salt), heatmap.left_share)


def _cell_borders(columns: int, rows: int) -> Path:
    """Every line of a columns x rows grid of unit cells, as one path."""
    segments = [((x, 0), (x, rows)) for x in range(columns + 1)] + [((0, y), (columns, y)) for y in range(rows + 1)]
    return Path([point for segment in segments for point in segment], [Path.MOVETO, Path.LINETO] * len(segments))


def day_labels(days: Sequence[dt.date]) -> list[str]:
    return [f"{day:%a}" for day in days]


def week_labels(starts: Sequence[dt.date]) -> list[str]:
    return [f"W{start.isocalendar()[1]:02d}" for start in starts]


def _labels(labels: Sequence[str]) -> list[str]:
    """Bar labels (names of people, projects, agents) as plain one-line text."""
    return [fmt.display_text(label) for label in labels]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
