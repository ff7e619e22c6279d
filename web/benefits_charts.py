"""The benefits report's charts, drawn on the server as SVG by pygal.

pygal writes a ``<style>`` and a ``<script>`` into every chart. Our Content-Security-Policy allows
neither inline (``style-src 'self'``, ``script-src 'self'``), so each chart is cleaned here: its script
and style removed, its style served once as a stylesheet of our own (:func:`chart_stylesheet`), and an
accessible name and ``role="img"`` added. Every chart sits beside its data table, which is what screen
readers read; a suppressed cell ("<5" or ":") is drawn as no bar at all, never as a number.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET  # we parse only the SVG pygal has just written
from functools import cache

import pygal
from pygal.style import Style

from web.benefits_view import HIDDEN_TEXT, SUPPRESSED_TEXT, Chart, ChartKind, Row

# pygal appends a finder of the old kind to ``sys.meta_path`` (for its map plugins, which we do not use),
# and Python then warns "find_spec() not found" on every later import that reaches it. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

_SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

CHART_CLASS = "benefits-chart"
WIDTH = 800
HEIGHT = 420

# Colours that keep at least 4.5:1 against white, so bars and their legend read in print and on screen,
# and that stay apart for the common kinds of colour blindness (blue, orange, green, purple...).
PALETTE = ("#1f4e79", "#a04000", "#2e6b30", "#6a3d9a", "#8a1538", "#005f73", "#5c5c00", "#404040")
_FONT = "system-ui, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#595959",
    font_family=_FONT,
    title_font_size=20,
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    value_font_size=14,
    tooltip_font_size=14,
    no_data_font_size=20,
    opacity="1",
    opacity_hover="1",
    colors=PALETTE,
)

_UUID_ID = re.compile(r"#chart-[0-9a-f-]+")


def _height(chart: Chart) -> int:
    """Horizontal bars grow with their rows (twenty municipalities must not squeeze into one chart's height)."""
    if chart.kind is not ChartKind.HORIZONTAL:
        return HEIGHT
    legend = 24 * len(chart.series) if len(chart.series) > 1 else 0
    return max(HEIGHT, 110 + legend + len(chart.table.rows) * (16 * len(chart.series) + 14))


def _config(chart: Chart, no_data: str) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "width": WIDTH,
        "height": _height(chart),
        "title": chart.title,
        "y_title": chart.y_title or None,
        "legend_at_bottom": True,
        # One legend entry a line: pygal spaces columns by the plot's width, and names run into each other.
        "legend_at_bottom_columns": 1,
        "truncate_legend": -1,
        "truncate_label": -1,
        "show_legend": len(chart.series) > 1,
        "print_values": False,
        "no_data_text": no_data,
        "disable_xml_declaration": True,
        "explicit_size": False,
        "min_scale": 4,
        "max_scale": 8,
        "value_formatter": lambda v: f"{v:g}",
        "x_label_rotation": 0,
    }


def _pygal_chart(chart: Chart, no_data: str) -> pygal.graph.graph.Graph:
    kind = pygal.HorizontalBar if chart.kind is ChartKind.HORIZONTAL else pygal.Bar
    drawn = kind(**_config(chart, no_data))
    rows = chart.table.rows
    if chart.kind is ChartKind.HORIZONTAL:
        rows = tuple(reversed(rows))  # pygal draws the first row at the bottom; keep the table's order
    # A hidden cell draws no bar; its label says "<5" so that the missing bar is not read as nothing.
    drawn.x_labels = [_label(row, chart.series) for row in rows]
    for index in chart.series:
        values = [row.cells[index].plottable for row in rows]
        drawn.add(chart.table.columns[index].label, values)
    return drawn


def _label(row: Row, series: tuple[int, ...]) -> str:
    """The row's name, with "(<5)" or "(:)" when one of its bars is hidden, so that it is not read as zero."""
    hidden = [row.cells[i] for i in series if row.cells[i].suppressed]
    if not hidden:
        return row.label
    return f"{row.label} ({SUPPRESSED_TEXT if any(c.below_limit for c in hidden) else HIDDEN_TEXT})"


def render_chart(chart: Chart, *, no_data: str, described_by: str = "") -> str:
    """The chart as inline SVG with no script and no inline style, named for assistive technology.

    ``described_by`` is the id of the data table beside it."""
    root = ET.fromstring(_pygal_chart(chart, no_data).render(is_unicode=True))  # noqa: S314  # our own output
    _strip(root)
    root.set("id", f"chart-{chart.key}")
    root.set("class", f"pygal-chart {CHART_CLASS}")
    root.set("role", "img")
    root.set("aria-label", chart.title)
    if described_by:
        root.set("aria-describedby", described_by)
    root.set("focusable", "false")
    return ET.tostring(root, encoding="unicode")


def _strip(root: ET.Element) -> None:
    """Remove what the CSP forbids inline (script, style element and attributes) and the hover tooltip."""
    for parent in root.iter():
        for child in list(parent):
            tag = child.tag.rsplit("}", 1)[-1]
            classes = (child.get("class") or "").split()
            if tag in {"script", "style"} or "tooltip" in classes:
                parent.remove(child)
        parent.attrib.pop("style", None)


@cache
def chart_stylesheet() -> str:
    """The charts' style as one stylesheet (pygal's own rules, for every chart on a page)."""
    probe = pygal.Bar(style=STYLE, js=[], disable_xml_declaration=True)
    for index in range(len(PALETTE)):
        probe.add(str(index), [1])
    root = ET.fromstring(probe.render(is_unicode=True))  # noqa: S314  # our own output
    css = "\n".join(el.text or "" for el in root.iter(f"{{{_SVG_NS}}}style"))
    css = _UUID_ID.sub(f"svg.{CHART_CLASS}", css)
    # The tooltip is removed from every chart (it needs pygal's script), and the charts scale to the page.
    return css + f"\nsvg.{CHART_CLASS}{{width:100%;height:auto;max-width:{WIDTH}px}}\n"
