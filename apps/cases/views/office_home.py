"""The office home (工作台, /office/): the person's work at a glance, and the calendar warnings
for those who can act on them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.cases import selectors
from apps.cases.views.office import OFFICE_LOGIN_URL
from apps.core.calendar import calendar_health
from apps.core.permissions import can_manage_calendar
from apps.identity.middleware import is_staff_account


@login_required(login_url=OFFICE_LOGIN_URL)
@require_GET
def office_home(request: HttpRequest) -> HttpResponse:
    """Counts of 待受理, 待补正, 临期 and 超期 in the queue's default scope, each linking to the
    queue filtered to it."""
    if not is_staff_account(request.user):
        raise PermissionDenied
    manages_calendar = can_manage_calendar(request.user)
    return render(
        request,
        "office/home.html",
        {
            "counts": selectors.queue_counts(request.user),
            "calendar": calendar_health() if manages_calendar else None,
        },
    )
