"""The board's charts as inline SVG, drawn on the server: no script, no network, and a table
beside each for screen readers and exact figures. Each bar carries its value as text and its
group as a word and a fill pattern, so colour is never the only signal."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 150
ROW = 26
BAR = 16
TOP = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown beside the bar
    kind: str = "plain"  # a CSS class: plain, fit, engagement, won, lost, warn


@dataclass(frozen=True)
class RangeBar:
    """A realised rate with its interval, and the predicted rate as a marker."""

    label: str
    realised: float | None
    low: float | None
    high: float | None
    predicted: float | None
    text: str
    kind: str = "plain"


def bar_chart(title: str, bars: list[Bar], scale: float | None = None) -> Markup:
    """Horizontal bars, longest = `scale` (default: the largest value)."""
    top = scale or max((bar.value for bar in bars), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for i, bar in enumerate(bars):
        y = TOP + i * ROW
        length = max(0.0, bar.value) / top * span
        rows.append(
            f'<g class="bar {escape(bar.kind)}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 3}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR}"/>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR - 3}">'
            f"{escape(bar.text)}</text></g>"
        )
    return _svg(title, "".join(rows), len(bars))


def range_chart(title: str, bars: list[RangeBar]) -> Markup:
    """Rates on a 0-100 % axis: a bar for the realised rate, a line for its 95 % interval and a
    diamond for the predicted rate."""
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for i, bar in enumerate(bars):
        y = TOP + i * ROW
        parts = [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 3}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>",
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y}" width="{span}" height="{BAR}"/>',
        ]
        if bar.realised is not None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar.realised * span:.1f}" '
                f'height="{BAR}"/>'
            )
        if bar.low is not None and bar.high is not None:
            x1, x2, middle = (
                LABEL_WIDTH + bar.low * span,
                LABEL_WIDTH + bar.high * span,
                y + BAR / 2,
            )
            parts.append(
                f'<path class="interval" d="M{x1:.1f},{middle}H{x2:.1f}'
                f'M{x1:.1f},{y + 2}V{y + BAR - 2}M{x2:.1f},{y + 2}V{y + BAR - 2}"/>'
            )
        if bar.predicted is not None:
            x, middle = LABEL_WIDTH + bar.predicted * span, y + BAR / 2
            parts.append(
                f'<path class="predicted" d="M{x:.1f},{middle - 7}L{x + 6:.1f},{middle}'
                f'L{x:.1f},{middle + 7}L{x - 6:.1f},{middle}Z"/>'
            )
        parts.append(
            f'<text class="value" x="{WIDTH - VALUE_WIDTH + 6}" y="{y + BAR - 3}">'
            f"{escape(bar.text)}</text>"
        )
        rows.append(f'<g class="bar {escape(bar.kind)}">{"".join(parts)}</g>')
    return _svg(title, "".join(rows), len(bars))


def _svg(title: str, body: str, rows: int) -> Markup:
    height = TOP * 2 + max(rows, 1) * ROW
    return Markup(
        f'<div class="scroll"><svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg></div>"
    )


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
