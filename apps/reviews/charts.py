"""Server-rendered SVG charts (no JavaScript library, no inline style: CSP-safe).

Presentation attributes (``fill``, ``x`` …) are attributes, not ``style``; colours come from
classes in static/css/reviews.css. Every chart carries a ``<title>`` and ``role="img"`` with
an ``aria-label``; the page shows the same numbers in a table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    label: str,
    unit: str = "",
    width: int = 360,
    height: int = 180,
    maximum: float | None = None,
) -> SafeString:
    """Vertical bars, one per item (e.g. months), scaled to ``maximum`` (default: the largest)."""
    values = [v or 0 for _, v in items]
    top = maximum or max(values, default=0) or 1
    n = max(len(items), 1)
    slot = (width - 20) / n
    bar = max(slot * 0.7, 1)
    base = height - 24
    parts = [
        f'<svg class="reviews-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line class="reviews-chart__axis" x1="10" y1="{base}" x2="{width - 10}" y2="{base}"/>',
    ]
    for i, (name, value) in enumerate(items):
        v = value or 0
        h = (base - 16) * v / top
        x = 10 + i * slot + (slot - bar) / 2
        shown = "–" if value is None else f"{value:g}{unit}"
        parts.append(
            f'<rect class="reviews-chart__bar" x="{x:.1f}" y="{base - h:.1f}" '
            f'width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{escape(name)}：{escape(shown)}</title></rect>"
        )
        if n <= 12:
            parts.append(
                f'<text class="reviews-chart__label" x="{x + bar / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(name[-2:])}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def distribution_chart(
    items: Sequence[tuple[str, int, str]], *, label: str, width: int = 360
) -> SafeString:
    """Horizontal bars (e.g. ratings per grade); ``items`` = (label, count, css modifier)."""
    total = sum(count for _, count, _ in items) or 1
    row = 28
    height = row * len(items) + 8
    parts = [
        f'<svg class="reviews-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for i, (name, count, modifier) in enumerate(items):
        y = 4 + i * row
        w = (width - 150) * count / total
        parts.append(
            f'<text class="reviews-chart__label" x="0" y="{y + 17}">{escape(name)}</text>'
            f'<rect class="reviews-chart__bar reviews-chart__bar--{escape(modifier)}" x="80" '
            f'y="{y + 4}" width="{w:.1f}" height="18"/>'
            f'<text class="reviews-chart__label" x="{84 + w:.1f}" y="{y + 17}">{count}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
