"""The table rows of "my cases" and the clerk queue, built in Python.

Both lists render 20–50 rows per request, and through the template engine each row cost a
``{% url %}``, an ``{% include %}`` of the SLA badge template with its nested ``{% if %}``s and a
``{% blocktranslate %}``, several ``|date``/``|default`` filters and a dozen variable lookups:
about half of a signed-in list page's time. Here the labels are translated once per page, the
detail link reversed once per page, and each row is one ``str.format`` of escaped values
(``format_html``'s per-argument ``conditional_escape`` was a fifth of the rows' time). The
markup is the same as the templates produced. The SLA badge is the one the single-case pages
show too (``{% sla_badge sla %}``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape as _html_escape
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from apps.cases import selectors

# A case id no real row has: reversed once, then replaced by each row's id.
_PLACEHOLDER = 987654321


def _page_parts(view_name: str, labels: dict[str, str]) -> dict[str, str]:
    """What every row of a page shares, escaped once: the column labels and the detail link
    around the case id (``head`` + id + ``tail``)."""
    url = reverse(view_name, args=[_PLACEHOLDER])
    head, _, tail = url.partition(str(_PLACEHOLDER))
    return {**{key: _e(value) for key, value in labels.items()}, "head": _e(head), "tail": _e(tail)}


def _e(value: Any) -> str:
    """``conditional_escape``: safe strings as they are, anything else escaped (the same five
    characters as ``django.utils.html.escape``, which calls this function)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


def _day(value: datetime | None) -> str:
    """``{{ value|date:"Y-m-d"|default:"—" }}``."""
    return localtime(value).strftime("%Y-%m-%d") if value is not None else "—"


def _minute(value: datetime | None) -> str:
    """``{{ value|date:"Y-m-d H:i" }}``."""
    return localtime(value).strftime("%Y-%m-%d %H:%M") if value is not None else ""


class SlaBadges:
    """The SLA badge of a case (its ``selectors.sla_figures``), with the fixed labels
    translated once for a page of rows."""

    def __init__(self) -> None:
        self.on_time = format_html('<span class="sla sla--ok">{}</span>', gettext("按期办结"))
        self.late = format_html('<span class="sla sla--red">{}</span>', gettext("超期办结"))
        self.stopped = format_html('<span class="sla sla--paused">{}</span>', gettext("已停止计时"))
        self.paused = format_html('<span class="sla sla--paused">{}</span>', gettext("暂停计时"))

    def __call__(self, sla: Any) -> str:
        if not sla:
            return ""
        if not sla.running:
            if sla.on_time is True:
                return self.on_time
            if sla.on_time is False:
                return self.late
            return self.stopped
        if sla.paused:
            return self.paused
        if sla.level == "red":
            n = sla.days_overdue
            text = ngettext("已超期 %(n)s 个工作日", "已超期 %(n)s 个工作日", n) % {"n": n}
            return format_html('<span class="sla sla--red">{}</span>', text)
        n = sla.days_left
        if sla.level == "yellow":
            text = ngettext("即将到期：剩余 %(n)s 个工作日", "即将到期：剩余 %(n)s 个工作日", n)
            return format_html('<span class="sla sla--yellow">{}</span>', text % {"n": n})
        text = ngettext("剩余 %(n)s 个工作日", "剩余 %(n)s 个工作日", n) % {"n": n}
        return format_html('<span class="sla sla--ok">{}</span>', text)


def my_case_labels() -> dict[str, str]:
    return {
        "number": gettext("办件编号"),
        "item": gettext("事项"),
        "status": gettext("状态"),
        "deadline": gettext("承诺办结日期"),
        "sla": gettext("时限"),
    }


_MY_ROW = (
    '<tr data-testid="case-row">\n'
    '      <td data-label="{number}">'
    '<a class="long-id" href="{head}{pk}{tail}">{case_number}</a></td>\n'
    '      <td data-label="{item}">{item_name}<br><small>{department}</small></td>\n'
    '      <td data-label="{status}">{status_label}</td>\n'
    '      <td data-label="{deadline}">{day}</td>\n'
    '      <td data-label="{sla}">{badge}</td>\n'
    "    </tr>"
)


def my_case_rows(cases: Iterable[selectors.CaseRow], labels: dict[str, str]) -> SafeString:
    """The ``<tr>`` of each of the citizen's cases (``cases/my_cases.html``)."""
    fixed = _page_parts("cases:detail", labels)
    badge = SlaBadges()
    draft = gettext("草稿")
    rows = [
        _MY_ROW.format(
            **fixed,
            pk=int(case.pk),
            case_number=_e(case.number or draft),
            item_name=_e(case.item_name),
            department=_e(case.department_name),
            status_label=_e(selectors.status_label(case)),
            day=_e(_day(case.deadline)),
            badge=_e(badge(selectors.sla_figures(case))),
        )
        for case in cases
    ]
    return mark_safe("\n    ".join(rows))  # noqa: S308 - every value escaped by _e


def queue_labels() -> dict[str, str]:
    return {
        "number": gettext("办件编号"),
        "item": gettext("事项"),
        "applicant": gettext("申请人"),
        "status": gettext("状态"),
        "received": gettext("收件时间"),
        "deadline": gettext("承诺办结日期"),
        "sla": gettext("时限"),
    }


_QUEUE_ROW = (
    '<tr data-testid="case-row" class="queue-row{state}">\n'
    '      <td data-label="{number}">'
    '<a class="long-id" href="{head}{pk}{tail}">{case_number}</a></td>\n'
    '      <td data-label="{item}">{item_name}</td>\n'
    '      <td data-label="{applicant}">{applicant_name}</td>\n'
    '      <td data-label="{status}">{status_label}<br><small>{channel}</small></td>\n'
    '      <td data-label="{received}">{received_at}</td>\n'
    '      <td data-label="{deadline}">{day}</td>\n'
    '      <td data-label="{sla}">{badge}</td>\n'
    "    </tr>"
)


def queue_rows(cases: Iterable[selectors.CaseRow], labels: dict[str, str]) -> SafeString:
    """The ``<tr>`` of each case in the clerk's queue (``cases/office/queue.html``)."""
    fixed = _page_parts("office-cases:case", labels)
    badge = SlaBadges()
    rows = []
    for case in cases:
        sla = selectors.sla_figures(case)
        if sla and sla.paused:
            state = " queue-row--paused"
        elif sla and sla.level:
            state = f" queue-row--{sla.level}"
        else:
            state = ""
        rows.append(
            _QUEUE_ROW.format(
                **fixed,
                state=_e(state),
                pk=int(case.pk),
                case_number=_e(case.number or ""),
                item_name=_e(case.item_name),
                applicant_name=_e(case.applicant_name),
                status_label=_e(selectors.status_label(case)),
                channel=_e(selectors.channel_label(case)),
                received_at=_e(_minute(case.received_at)),
                day=_e(_day(case.deadline)),
                badge=_e(badge(sla)),
            )
        )
    return mark_safe("\n    ".join(rows))  # noqa: S308 - every value escaped by _e
