"""Server-rendered SVG charts for the portal, presales and finance pages: no JavaScript, no
CDN, readable without styles and printable.

Each function takes the figures a page already shows in its table (Decimals from the same
selector) and returns SVG markup marked safe for a template. Geometry is computed in
floats — pixel positions, not money: every amount printed (axis labels, tooltips) is
formatted from the Decimal it was given. Every bar carries a ``<title>`` (the browser's
tooltip) with its label and exact figure, and the chart an ``aria-label``; the page's table
stays the accessible source of the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from math import floor, log10

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from common.admin_display import money_text, number_text

# Colour-blind-safe palette (Okabe–Ito, then two greys for "other" series).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999", "#666666")

Format = Callable[[Decimal], str]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (axis top); 1 for 0."""
    if value <= 0:
        return Decimal(1)
    exponent = floor(log10(float(value)))
    base = Decimal(10) ** exponent
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if base * step >= value:
            return base * step
    return base * 10  # pragma: no cover - the loop ends at 10 × base ≥ value


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" '
        f'font-family="system-ui, sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts, offset = [], 0.0
    for index, name in enumerate(names):
        parts.append(
            f'<g class="legend-item"><rect x="{x + offset:.1f}" y="{y - 9:.1f}" width="10" height="10" '
            f'fill="{colour(index)}"/><text x="{x + offset + 14:.1f}" y="{y:.1f}">{escape(name)}</text></g>'
        )
        offset += 24 + 7 * len(name) + (7 * sum(1 for ch in name if ord(ch) > 0x2E80))
    return parts


def _value_axis(
    top: Decimal, *, left: float, plot_top: float, plot_height: float, right: float, fmt: Format
) -> list[str]:
    parts = []
    for tick in range(5):
        value = top * tick / 4
        y = plot_top + plot_height - plot_height * tick / 4
        parts.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{escape(fmt(value))}</text>'
        )
    return parts


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal]]],
    *,
    label: str,
    fmt: Format = money_text,
    width: int = 720,
    height: int = 260,
) -> SafeString:
    """Vertical bars, one per category (e.g. a day), stacked by series (e.g. a model).

    ``series`` is ``[(name, [value per category]), …]``; negative values count as zero in the
    stack (a credit is shown in the table, not as a bar below the axis)."""
    left, right, plot_top, bottom = 78.0, width - 10.0, 28.0, 36.0
    plot_height = height - plot_top - bottom
    totals = [sum((max(values[i], Decimal(0)) for _name, values in series), Decimal(0)) for i in range(len(categories))]
    top = nice_ceiling(max(totals, default=Decimal(0)))
    body = _legend([name for name, _values in series], left, 14)
    body += _value_axis(top, left=left, plot_top=plot_top, plot_height=plot_height, right=right, fmt=fmt)
    slot = (right - left) / max(len(categories), 1)
    bar = max(slot * 0.7, 1.0)
    label_every = max(1, len(categories) // 10)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        base = plot_top + plot_height
        for index, (name, values) in enumerate(series):
            value = max(values[i], Decimal(0))
            if not value:
                continue
            h = plot_height * float(value / top)
            base -= h
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour(index)}">'
                f"<title>{escape(category)} · {escape(name)}: {escape(fmt(values[i]))}</title></rect>"
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{plot_top + plot_height + 16:.1f}" text-anchor="middle" fill="#555">'
                f"{escape(category)}</text>"
            )
    return _svg(width, height, label, body)


def horizontal_bars(
    rows: Sequence[tuple[str, Decimal]],
    *,
    label: str,
    fmt: Format = money_text,
    width: int = 720,
    row_height: int = 26,
) -> SafeString:
    """One horizontal bar per row (e.g. spend per project, cost per option), largest scale
    first as given; the figure is written at the end of each bar."""
    label_width, right_margin = 200.0, 110.0
    height = row_height * max(len(rows), 1) + 8
    top = max((value for _name, value in rows), default=Decimal(0))
    span = width - label_width - right_margin
    body = []
    for i, (name, value) in enumerate(rows):
        y = 4 + i * row_height
        w = span * float(value / top) if top > 0 and value > 0 else 0.0
        body.append(
            f'<text x="{label_width - 8:.1f}" y="{y + row_height / 2 + 4:.1f}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{label_width:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_height - 8}" fill="{colour(i)}">'
            f"<title>{escape(name)}: {escape(fmt(value))}</title></rect>"
            f'<text x="{label_width + w + 6:.1f}" y="{y + row_height / 2 + 4:.1f}" fill="#333">{escape(fmt(value))}</text>'
        )
    return _svg(width, height, label, body)


def lines(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal]]],
    *,
    label: str,
    fmt: Format = money_text,
    width: int = 720,
    height: int = 260,
) -> SafeString:
    """One line per series over the categories (e.g. twelve months), with a dot per point."""
    left, right, plot_top, bottom = 78.0, width - 14.0, 28.0, 36.0
    plot_height = height - plot_top - bottom
    top = nice_ceiling(max((v for _name, values in series for v in values), default=Decimal(0)))
    body = _legend([name for name, _values in series], left, 14)
    body += _value_axis(top, left=left, plot_top=plot_top, plot_height=plot_height, right=right, fmt=fmt)
    step = (right - left) / max(len(categories) - 1, 1)
    for i, category in enumerate(categories):
        body.append(
            f'<text x="{left + step * i:.1f}" y="{plot_top + plot_height + 16:.1f}" text-anchor="middle" fill="#555">'
            f"{escape(category)}</text>"
        )
    for index, (name, values) in enumerate(series):
        points = [
            (left + step * i, plot_top + plot_height - plot_height * float(max(v, Decimal(0)) / top))
            for i, v in enumerate(values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour(index)}" stroke-width="2"/>')
        for (x, y), category, value in zip(points, categories, values, strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour(index)}">'
                f"<title>{escape(category)} · {escape(name)}: {escape(fmt(value))}</title></circle>"
            )
    return _svg(width, height, label, body)


def gauge(
    used: Decimal,
    limit: Decimal,
    *,
    thresholds: Sequence[Decimal] = (),
    label: str,
    fmt: Format = money_text,
    width: int = 360,
) -> SafeString:
    """A budget's use as a bar against its limit, with a tick at each threshold percent
    (e.g. 50, 80, 100). Over the limit the bar is full and red; past a threshold, amber."""
    height, bar_top, bar_height = 44, 6, 16
    share = used / limit if limit > 0 else Decimal(0)
    filled = width * min(float(share), 1.0)
    crossed = [t for t in thresholds if share * 100 >= t]
    fill = "#D55E00" if share >= 1 else ("#E69F00" if crossed else "#009E73")
    body = [
        f'<rect x="0" y="{bar_top}" width="{width}" height="{bar_height}" fill="#eee" rx="3"/>',
        f'<rect class="gauge-fill" x="0" y="{bar_top}" width="{filled:.1f}" height="{bar_height}" fill="{fill}" rx="3">'
        f"<title>{escape(fmt(used))} / {escape(fmt(limit))}</title></rect>",
    ]
    for threshold in thresholds:
        x = width * min(float(threshold) / 100, 1.0)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{bar_top + bar_height + 4}" stroke="#333"/>')
        anchor = "end" if x > width - 20 else "middle"
        body.append(
            f'<text x="{x:.1f}" y="{height - 2}" text-anchor="{anchor}" fill="#333">{number_text(threshold)}%</text>'
        )
    return _svg(width, height, label, body)
