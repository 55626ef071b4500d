"""Office screens for handoffs (placeholder until the screens land)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.handoffs.selectors import handoff_counts_for, list_handoffs_for


@staff_member_required
@require_GET
def handoff_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "handoffs/handoff_list.html",
        {
            "handoffs": list_handoffs_for(request.user)[:50],
            "counts": handoff_counts_for(request.user),
            "office_section": "handoffs",
        },
    )
