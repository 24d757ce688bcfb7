"""Charts drawn on the server as SVG (matplotlib), so that the same picture renders in
the browser and in the PDFs WeasyPrint makes, with no script and no CDN.

Text is drawn as paths in the Noto CJK font of the reader's language (Debian's
fonts-noto-cjk), so Chinese labels render whatever fonts the reader's machine has.
A page shows a chart as an image from a data: URL (``{% include "includes/chart.html"
with chart=... %}``): the SVG's own style attributes stay inside the image, out of the
page's Content-Security-Policy, and its ids cannot clash with the page's. Pages show
the figures as a table beside each chart too (for screen readers, and for those who
would rather read numbers).
"""

import base64
import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

import matplotlib

matplotlib.use("Agg")

from django.utils import translation
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

# The font for each interface language; DejaVu (matplotlib's own) is the fallback.
FONTS = {
    "zh-hans": ["Noto Sans CJK SC", "DejaVu Sans"],
    "zh-hant": ["Noto Sans CJK TC", "DejaVu Sans"],
    "en": ["DejaVu Sans", "Noto Sans CJK SC"],
}
COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490"]
TARGET_COLOUR = "#b91c1c"
_serial = count(1)

plt.rcParams.update(
    {
        "svg.fonttype": "path",
        "svg.hashsalt": "o2d",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
    }
)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str

    @property
    def src(self) -> str:
        """The chart as a data: URL for an ``<img>``."""
        encoded = base64.b64encode(self.svg.encode()).decode()
        return f"data:image/svg+xml;base64,{encoded}"

    def __str__(self):
        return self.title


def _in_reader_font(draw):
    """Draw with the font of the current language (rc_context: no global change)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        language = translation.get_language() or "en"
        with matplotlib.rc_context({"font.family": FONTS.get(language, FONTS["en"])}):
            return draw(*args, **kwargs)

    return wrapper


def _figure(width=6.4, height=2.6) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure.patch.set_alpha(0)
    return figure


def _svg(figure: Figure, name: str, title: str) -> Chart:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Title": title, "Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    prefix = f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}-{next(_serial)}-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    # Labelled for assistive technology when it is shown inline (e.g. in a PDF).
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{_escape(title)}"', 1)
    return Chart(title=str(title), svg=svg)


def _escape(text: str) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


@_in_reader_font
def line_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    y_label: str = "",
    y_min: float | None = None,
    y_max: float | None = None,
) -> Chart:
    """Lines over the same x labels (e.g. weeks); None leaves a gap."""
    figure = _figure()
    axes = figure.subplots()
    positions = list(range(len(labels)))
    for colour, (label, values) in zip(COLOURS * 4, series.items(), strict=False):
        points = [float("nan") if v is None else float(v) for v in values]
        axes.plot(positions, points, marker="o", markersize=3, color=colour, label=str(label))
    axes.set_title(str(title), loc="left")
    axes.set_ylabel(str(y_label))
    axes.set_xticks(positions, [str(label) for label in labels])
    if len(labels) > 8:
        axes.tick_params(axis="x", labelrotation=45)
    if y_min is not None or y_max is not None:
        axes.set_ylim(y_min, y_max)
    axes.set_axisbelow(True)
    axes.grid(axis="y", color="#e3e8ef")
    if len(series) > 1:
        # Below the chart, outside the plot: never over a line or the title.
        figure.legend(loc="outside lower center", ncols=len(series), frameon=False)
    return _svg(figure, name, title)


@_in_reader_font
def bar_chart(
    name: str,
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    x_label: str = "",
    targets: Sequence[float | None] | None = None,
    target_label: str = "",
    highlight: Sequence[bool] | None = None,
) -> Chart:
    """Horizontal bars, one per item (label, value); optional target ticks per bar
    (e.g. a step's target time) and highlighted bars (e.g. over target)."""
    height = max(1.6, 0.38 * len(items) + 0.9)
    figure = _figure(height=height)
    axes = figure.subplots()
    positions = list(range(len(items)))
    colours = [COLOURS[1] if highlight and highlight[i] else COLOURS[0] for i in range(len(items))]
    axes.barh(positions, [float(value) for _label, value in items], color=colours, height=0.6)
    axes.set_yticks(positions, [str(label) for label, _value in items])
    axes.invert_yaxis()
    if targets:
        marked = False
        for position, target in zip(positions, targets, strict=False):
            if target is None:
                continue
            axes.plot(
                [target, target],
                [position - 0.4, position + 0.4],
                color=TARGET_COLOUR,
                linewidth=2,
                label=str(target_label) if not marked else None,
            )
            marked = True
        if marked and target_label:
            # Below the chart, outside the plot: never over a bar or a target mark.
            figure.legend(loc="outside lower center", frameon=False)
    axes.set_xlim(left=0, right=None if any(value > 0 for _label, value in items) else 1)
    axes.set_title(str(title), loc="left")
    axes.set_xlabel(str(x_label))
    axes.set_axisbelow(True)
    axes.grid(axis="x", color="#e3e8ef")
    return _svg(figure, name, title)
