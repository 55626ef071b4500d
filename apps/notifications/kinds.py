"""Kinds of notice a person can be told about, and the channels each may use.

Apps register their kinds in ``AppConfig.ready()`` (STYLE.md L5)::

    from apps.notifications.kinds import register_kind
    register_kind("cases.accepted", _("办件已受理"), sms=True)

A registered kind appears on the person's preferences page (站内消息 / 短信 per kind).
Unregistered kinds (staff notices such as ``cases.sla_warning``) are sent in-site only and
are not offered on the page. ``site_required`` kinds always reach the message centre: the
message is the person's record of a legal notice (e.g. a supplement request or a decision),
only its SMS copy can be switched off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NoticeKind:
    code: str
    label: Any  # a lazy translation
    sms: bool = False  # SMS on by default
    site_required: bool = False
    order: int = 0


_kinds: dict[str, NoticeKind] = {}


def register_kind(
    code: str, label: Any, *, sms: bool = False, site_required: bool = False, order: int = 0
) -> NoticeKind:
    kind = NoticeKind(code=code, label=label, sms=sms, site_required=site_required, order=order)
    _kinds[code] = kind
    return kind


def get_kind(code: str) -> NoticeKind | None:
    return _kinds.get(code)


def registered_kinds() -> list[NoticeKind]:
    return sorted(_kinds.values(), key=lambda kind: (kind.order, kind.code))


def default_channels(code: str) -> tuple[bool, bool]:
    """(site, sms) for a person who has not chosen."""
    kind = _kinds.get(code)
    if kind is None:
        return True, False
    return True, kind.sms
