"""Citizen pages: the bundle list, the guide with its questions (一次告知), the one form
(一表申请 + 一套材料) and the application's progress (STYLE.md V4: thin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.bundles import selectors, services
from apps.bundles.constants import ChildState, DeliveryMethod
from apps.bundles.services import effective_state
from apps.core.exceptions import DomainError


def bundle_list(request: HttpRequest) -> HttpResponse:
    versions = selectors.list_published_versions()
    return render(request, "bundles/bundle_list.html", {"versions": versions})


def _version_or_404(code: str):
    version = selectors.get_published_version(code)
    if version is None:
        raise Http404
    return version


def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    version = _version_or_404(code)
    guide = selectors.bundle_guide(version, request.GET)
    answers_query = urlencode({k: _encode(v) for k, v in guide.answers.items()})
    return render(
        request,
        "bundles/bundle_guide.html",
        {"version": version, "guide": guide, "answers_query": answers_query},
    )


def _encode(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


@login_required
def bundle_apply(request: HttpRequest, code: str) -> HttpResponse:
    version = _version_or_404(code)
    # On the form page the answers travel as hidden ``a_<key>`` inputs, apart from the fields.
    source = (
        {k[2:]: v for k, v in request.POST.items() if k.startswith("a_")}
        if request.method == "POST"
        else request.GET
    )
    guide = selectors.bundle_guide(version, source)
    if not guide.complete:
        return redirect(reverse("bundles:guide", args=[code]) + "?" + request.GET.urlencode())
    keys = {c.key for c in guide.components}
    if request.method == "POST":
        form = services.merged_form(version, keys, request.POST)
        try:
            application = services.submit_bundle_application(
                user=request.user,
                version_id=version.pk,
                answers=source,
                form_data=request.POST,
                files=request.FILES,
                delivery_method=request.POST.get("delivery_method", DeliveryMethod.WINDOW),
                delivery_address=request.POST.get("delivery_address", ""),
            )
        except ValidationError as exc:
            form.is_valid()
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        except DomainError as exc:
            form.is_valid()
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已提交。各部门将按顺序办理，进度可在本页查看。"))
            return redirect("bundles:application", application.pk)
    else:
        initial = {}
        for f in version.fields.all():
            if f.prefill == "name":
                initial[f.key] = request.user.display_name
        form = services.merged_form(version, keys)
        form.initial = initial
    answers = {k: _encode(v) for k, v in guide.answers.items()}
    return render(
        request,
        "bundles/bundle_apply.html",
        {
            "version": version,
            "guide": guide,
            "form": form,
            "answers": answers,
            "delivery_methods": DeliveryMethod.choices,
            "delivery_method": request.POST.get("delivery_method", DeliveryMethod.WINDOW),
            "delivery_address": request.POST.get("delivery_address", ""),
        },
    )


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.get_application_for(request.user, application_id)
    if application is None:
        raise Http404
    children = list(application.children.all())
    names = {c.component.key: c.component.item_version.name for c in children}
    edges = list(application.version.edges.all())
    rows = []
    for child in children:
        state = effective_state(child)
        rows.append(
            {
                "child": child,
                "state": state,
                "state_label": ChildState(state).label,
                "after": [
                    names[e.upstream]
                    for e in edges
                    if e.downstream == child.component.key and e.upstream in names
                ],
                "supplement": services.open_supplement_items(child.case)
                if child.case is not None and child.case.status == "awaiting_supplement"
                else [],
            }
        )
    return render(
        request,
        "bundles/application_detail.html",
        {
            "application": application,
            "rows": rows,
            "results": selectors.bundle_results(application),
            "delivery_methods": DeliveryMethod.choices,
        },
    )


@login_required
@require_POST
def application_supplement(
    request: HttpRequest, application_id: int, child_id: int
) -> HttpResponse:
    """补正 answered on the bundle page: the files of one child's notice, then back."""
    application = selectors.get_application_for(request.user, application_id)
    if application is None:
        raise Http404
    try:
        services.answer_child_supplement(
            application_id=application.pk,
            child_id=child_id,
            user=request.user,
            files=request.FILES,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("补正材料已提交，部门将继续办理。"))
    return redirect(reverse("bundles:application", args=[application.pk]) + f"#child-{child_id}")


@login_required
@require_POST
def application_delivery(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.get_application_for(request.user, application_id)
    if application is None:
        raise Http404
    try:
        services.choose_bundle_delivery(
            application_id=application.pk,
            user=request.user,
            method=request.POST.get("delivery_method", ""),
            address=request.POST.get("delivery_address", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("出件方式已保存。"))
    return redirect(reverse("bundles:application", args=[application.pk]) + "#results")


@login_required
@require_POST
def application_withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.get_application_for(request.user, application_id)
    if application is None:
        raise Http404
    try:
        services.withdraw_bundle_application(
            application_id=application.pk, user=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回，尚未作出决定的事项均已撤回。"))
    return redirect("bundles:application", application.pk)


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    applications = selectors.list_applications_for(request.user)
    return render(request, "bundles/application_list.html", {"applications": applications})
