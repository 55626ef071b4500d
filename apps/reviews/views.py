"""HTML pages of 好差评 (thin: one selector or service each, STYLE.md V4)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.reviews import charts, selectors, services
from apps.reviews.constants import (
    ChannelKind,
    Dimension,
    Grade,
    ModerationStatus,
    RaterAnswer,
    RatingChannel,
)
from apps.reviews.forms import RatingForm
from apps.reviews.models import IndicatorOption

# Comments shown publicly: those that needed no review or were released.
PUBLIC_MODERATION = (ModerationStatus.NOT_NEEDED, ModerationStatus.APPROVED)


def _option_codes() -> list[str]:
    return list(IndicatorOption.objects.values_list("code", flat=True).distinct())


@login_required
@require_POST
def case_rate(request: HttpRequest, case_id: int) -> HttpResponse:
    form = RatingForm(request.POST, option_codes=_option_codes())
    if not form.is_valid():
        messages.error(request, _("请选择满意度，文字评价不超过 500 字"))
        return redirect("cases:detail", case_id)
    try:
        services.rate_case(
            case_id=case_id,
            user=request.user,
            grade=form.cleaned_data["grade"],
            channel=RatingChannel.PC,
            options=form.cleaned_data["options"],
            comment=form.cleaned_data["comment"],
            is_anonymous=form.cleaned_data["is_anonymous"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("感谢您的评价"))
    return redirect("cases:detail", case_id)


@login_required
@require_POST
def case_node_rate(request: HttpRequest, case_id: int, node: str) -> HttpResponse:
    form = RatingForm(request.POST, option_codes=_option_codes())
    if not form.is_valid():
        messages.error(request, _("请选择满意度，文字评价不超过 500 字"))
        return redirect("cases:detail", case_id)
    try:
        services.rate_case_node(
            case_id=case_id,
            user=request.user,
            node=node,
            grade=form.cleaned_data["grade"],
            channel=RatingChannel.PC,
            options=form.cleaned_data["options"],
            comment=form.cleaned_data["comment"],
            is_anonymous=form.cleaned_data["is_anonymous"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("感谢您的评价"))
    return redirect("cases:detail", case_id)


def _token_page(request: HttpRequest, token: str, channel: str) -> HttpResponse:
    """The pad (or the phone behind the printed QR): no login, one rating per token."""
    error = ""
    done = False
    service = None
    try:
        service = services.service_for_pad_token(token)
    except DomainError as exc:
        error = exc.message
    form = RatingForm(request.POST or None, option_codes=_option_codes())
    if request.method == "POST" and service is not None:
        if form.is_valid():
            try:
                services.rate_by_token(
                    token=token,
                    grade=form.cleaned_data["grade"],
                    channel=channel,
                    user=request.user,
                    options=form.cleaned_data["options"],
                    comment=form.cleaned_data["comment"],
                )
                done = True
            except DomainError as exc:
                error = exc.message
        else:
            error = _("请选择满意度，文字评价不超过 500 字")
    return render(
        request,
        "reviews/pad.html",
        {
            "service": service,
            "form": form,
            "error": error,
            "done": done,
            "grades": selectors.grade_choices(),
            "indicators": selectors.indicator_form(ChannelKind.OFFLINE),
        },
        status=400 if error and request.method == "POST" else 200,
    )


def pad_rate(request: HttpRequest, token: str) -> HttpResponse:
    return _token_page(request, token, RatingChannel.HALL_PAD)


def qr_rate(request: HttpRequest, token: str) -> HttpResponse:
    return _token_page(request, token, RatingChannel.QR)


def public_index(request: HttpRequest) -> HttpResponse:
    """公开: the figures of the last 12 months, the rankings and the rectified 差评. Reads the
    rollups only; shows no rater's identity."""
    periods = selectors.last_periods(12)
    figures = selectors.figures_for(periods=periods)
    monthly = selectors.monthly_figures(periods=periods)
    return render(
        request,
        "reviews/public_index.html",
        {
            "periods": periods,
            "figures": figures,
            "monthly": monthly,
            "trend_chart": charts.bar_chart(
                [(p, f.ratings) for p, f in monthly], label=_("近12个月评价数")
            ),
            "good_rate_chart": charts.bar_chart(
                [(p, f.good_rate) for p, f in monthly],
                label=_("近12个月好评率"),
                unit="%",
                maximum=100,
            ),
            "grade_chart": charts.distribution_chart(
                [
                    (label, count, value)
                    for (value, label), count in zip(Grade.choices, figures.grades, strict=True)
                ],
                label=_("评价等级分布"),
            ),
            "departments": selectors.named_ranking(dimension=Dimension.DEPARTMENT, periods=periods),
            "halls": selectors.named_ranking(dimension=Dimension.HALL, periods=periods),
            "rectified": selectors.rectified_bad_reviews(),
            "public_moderation": PUBLIC_MODERATION,
        },
    )


@login_required
def feedback(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The rater reads the rectification and answers it (closes the ticket)."""
    ticket = selectors.get_feedback_ticket_for(request.user, ticket_id)
    if request.method == "POST":
        try:
            services.answer_feedback(
                ticket_id=ticket.pk,
                user=request.user,
                answer=request.POST.get("answer", ""),
                text=request.POST.get("text", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("感谢您的反馈"))
        return redirect("reviews:feedback", ticket.pk)
    return render(
        request,
        "reviews/feedback.html",
        {"ticket": ticket, "answers": RaterAnswer.choices},
    )
