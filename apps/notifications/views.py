"""The message centre (站内消息) at /messages/: list, read one, mark all read, preferences.

Thin (STYLE.md V4): selectors scope every read to the signed-in person (someone else's message
is a 404), services make the changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.notifications import kinds, selectors, services

PAGE_SIZE = 20


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    page = _page(request)
    unread_only = request.GET.get("filter") == "unread"
    rows = list(
        selectors.list_notifications_for(request.user, unread_only=unread_only)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    return render(
        request,
        "notifications/message_list.html",
        {
            "notices": rows[:PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "unread_only": unread_only,
        },
    )


@login_required
def message_detail(request: HttpRequest, notification_id: int) -> HttpResponse:
    """One message; opening it marks it read."""
    notice = selectors.get_notification_for(user=request.user, notification_id=notification_id)
    if notice.read_at is None:
        services.mark_read(user=request.user, notification_ids=[notice.pk])
    link = notice.url
    if link and not url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        link = ""
    return render(request, "notifications/message_detail.html", {"notice": notice, "link": link})


@login_required
@require_POST
def message_read_all(request: HttpRequest) -> HttpResponse:
    changed = services.mark_read(user=request.user)
    if changed:
        messages.success(request, _("已将 %(count)d 条消息标为已读") % {"count": changed})
    return HttpResponseRedirect(reverse("notifications:list"))


@login_required
@require_http_methods(["GET", "POST"])
def message_preferences(request: HttpRequest) -> HttpResponse:
    """Which channels (站内消息 / 短信) per kind of notice; a plain form, no JavaScript."""
    if request.method == "POST":
        choices = {
            kind.code: (
                request.POST.get(f"{kind.code}:site") == "on",
                request.POST.get(f"{kind.code}:sms") == "on",
            )
            for kind in kinds.registered_kinds()
        }
        services.set_preferences(user=request.user, choices=choices)
        messages.success(request, _("消息接收设置已保存"))
        return HttpResponseRedirect(reverse("notifications:preferences"))
    return render(
        request,
        "notifications/preferences.html",
        {"rows": selectors.preference_rows(request.user)},
    )
