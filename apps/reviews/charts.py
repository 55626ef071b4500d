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
    height: int = 156,
    maximum: float | None = None,
) -> SafeString:
    """Vertical bars, one per item (e.g. months), scaled to ``maximum`` (default: the largest).

    The bars are drawn in SVG; the labels under them are HTML text on the page's background
    (text inside an SVG has no background a contrast checker can read). Equal flex slots with
    the plot's side margins line each label up under its bar.
    """
    values = [v or 0 for _, v in items]
    top = maximum or max(values, default=0) or 1
    n = max(len(items), 1)
    slot = (width - 20) / n
    bar = max(slot * 0.7, 1)
    base = height - 4
    parts = [
        f'<div class="reviews-chart" role="img" aria-label="{escape(label)}">',
        f'<svg class="reviews-chart__plot" viewBox="0 0 {width} {height}" aria-hidden="true" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg">',
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
    parts.append("</svg>")
    if n <= 12:
        parts.append('<ol class="reviews-chart__labels">')
        parts.extend(f"<li>{escape(name[-2:])}</li>" for name, _ in items)
        parts.append("</ol>")
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def distribution_chart(items: Sequence[tuple[str, int, str]], *, label: str) -> SafeString:
    """Horizontal bars (e.g. ratings per grade); ``items`` = (label, count, css modifier).

    One row per item: the name and the count are HTML text, the bar an SVG of its own between
    them, so every text sits on the page's background.
    """
    total = sum(count for _, count, _ in items) or 1
    parts = [
        f'<div class="reviews-chart reviews-chart--rows" role="img" aria-label="{escape(label)}">'
    ]
    for name, count, modifier in items:
        share = 100 * count / total
        parts.append(
            f'<div class="reviews-chart__row"><span>{escape(name)}</span>'
            f'<svg class="reviews-chart__track" viewBox="0 0 100 18" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="reviews-chart__bar reviews-chart__bar--{escape(modifier)}" x="0" '
            f'y="0" width="{share:.1f}" height="18"/></svg>'
            f'<span class="reviews-chart__count">{count}</span></div>'
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
