"""Small SVG charts drawn on the server (DESIGN §9): no chart library, no script in the
image, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

STATUS_COLORS = {
    "completed": "#2e9d57",
    "failed": "#d64545",
    "canceled": "#8a8f98",
    "running": "#3b7dd8",
    "queued": "#e0a526",
}
BAR_COLOR = "#3b7dd8"
FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#444"'
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 40, 10, 24, 34


def _nice_max(value: float) -> float:
    """A round top for the y axis (1, 2 or 5 times a power of 10) at or above `value`."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}>',
            f"<title>{escape(title)}</title>",
            '<rect width="100%" height="100%" fill="#fff"/>',
            f'<text x="{MARGIN_LEFT}" y="15" {FONT} font-weight="600">{escape(title)}</text>',
            *body,
            "</svg>",
        ]
    )


def _y_axis(top: float, width: int, height: int) -> list[str]:
    plot_bottom = height - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    lines = []
    for i in range(5):
        value = top * i / 4
        y = plot_bottom - plot_height * i / 4
        label = f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"
        lines.append(f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        lines.append(f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{escape(label)}</text>')
    return lines


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    colors: dict[str, str] | None = None,
    width: int = 600,
    height: int = 240,
    label_every: int = 3,
    legend: bool = True,
) -> str:
    """One bar per label, stacked by series (in the order given), with a legend."""
    colors = colors or STATUS_COLORS
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_bottom = height - MARGIN_BOTTOM
    plot_height = plot_bottom - MARGIN_TOP
    slot = plot_width / max(1, len(labels))
    body = _y_axis(top, width, height)
    for i, label in enumerate(labels):
        x = MARGIN_LEFT + i * slot + slot * 0.15
        y = plot_bottom
        for name, values in series.items():
            value = values[i]
            if not value:
                continue
            bar = plot_height * value / top
            y -= bar
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar:.1f}" '
                f'fill="{colors.get(name, BAR_COLOR)}"><title>{escape(f"{label} {name}: {value:g}")}</title></rect>'
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{plot_bottom + 14}" text-anchor="middle" {FONT}>'
                f"{escape(label)}</text>"
            )
    legend_x = MARGIN_LEFT
    for name in series if legend else ():
        body.append(
            f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" fill="{colors.get(name, BAR_COLOR)}"/>'
        )
        body.append(f'<text x="{legend_x + 14}" y="{height - 3}" {FONT}>{escape(name)}</text>')
        legend_x += 14 + 8 * len(name) + 16
    return _frame(width, height, title, body)


def bars(title: str, labels: Sequence[str], values: Sequence[float], width: int = 600, height: int = 240) -> str:
    """A plain bar chart, every label shown."""
    return stacked_bars(title, labels, {"count": values}, {"count": BAR_COLOR}, width, height, 1, legend=False)
