"""Office screens for handoffs (/office/handoffs/): monitor, detail, dead letters, endpoint setup.

Thin views (STYLE.md V4): a selector or a service call each; permissions from
``apps.handoffs.permissions``; refusals shown as Chinese messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.handoffs import permissions, selectors, services
from apps.handoffs.constants import HandoffState
from apps.handoffs.forms import EndpointForm, RerouteForm, SigningKeyForm
from apps.handoffs.models import Handoff
from apps.handoffs.registry import is_target_fixed

PAGE_SIZE = 50


def office_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, and staff of some department or a platform administrator."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.can_view_handoffs(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def _run(request: HttpRequest, call: Callable[[], Any], *, success: str, back: str) -> HttpResponse:
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(back)


# --- monitor and detail -------------------------------------------------------------------


@office_staff_required
@require_GET
def handoff_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.HandoffFilters.from_query(request.GET)
    page = _page(request)
    rows = list(
        selectors.list_handoffs_for(request.user, filters)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    return render(
        request,
        "handoffs/handoff_list.html",
        {
            "office_section": "handoffs",
            "handoffs": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "filters": filters,
            "query_string": urlencode(filters.as_query()),
            "states": HandoffState.choices,
            "counts": selectors.handoff_counts_for(request.user),
            "departments": selectors.filter_departments_for(request.user),
            "health": selectors.handoff_health(),
            "can_configure": bool(selectors.administered_department_ids(request.user)),
        },
    )


@office_staff_required
@require_GET
def handoff_detail(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = selectors.get_handoff_for(request.user, handoff_id)
    can_administer = permissions.can_administer_handoff(request.user, handoff)
    is_dead = handoff.state == HandoffState.DEAD
    return render(
        request,
        "handoffs/handoff_detail.html",
        {
            "office_section": "handoffs",
            "handoff": handoff,
            "attempts": selectors.list_attempts(handoff),
            "answers": selectors.list_answers(handoff),
            "can_administer": can_administer,
            "can_sign": permissions.can_sign_for_handoff(request.user, handoff),
            "reroute_targets": selectors.reroute_targets(handoff)
            if can_administer and is_dead
            else [],
            "target_fixed": is_target_fixed(handoff.subject_type),
            "can_configure_target": permissions.can_configure_endpoint(
                request.user, handoff.target_department_id
            ),
        },
    )


def _administered(request: HttpRequest, handoff_id: int) -> Handoff:
    handoff = selectors.get_handoff_for(request.user, handoff_id)
    if not permissions.can_administer_handoff(request.user, handoff):
        raise PermissionDenied
    return handoff


@office_staff_required
@require_POST
def handoff_retry(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = _administered(request, handoff_id)
    return _run(
        request,
        lambda: services.retry_handoff(handoff_id=handoff.pk, actor=request.user),
        success=_("已重新投递"),
        back=reverse("handoffs:detail", args=[handoff.pk]),
    )


@office_staff_required
@require_POST
def handoff_reroute(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = _administered(request, handoff_id)
    back = reverse("handoffs:detail", args=[handoff.pk])
    form = RerouteForm(request.POST)
    target = (
        selectors.get_reroute_target(form.cleaned_data["target_department"])
        if form.is_valid()
        else None
    )
    if target is None:
        messages.error(request, _("请选择有效的改派部门"))
        return HttpResponseRedirect(back)
    return _run(
        request,
        lambda: services.reroute_handoff(
            handoff_id=handoff.pk, target_department=target, actor=request.user
        ),
        success=_("已改派至 %(name)s") % {"name": target.name},
        back=back,
    )


@office_staff_required
@require_POST
def handoff_acknowledge(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = selectors.get_handoff_for(request.user, handoff_id)
    if not permissions.can_sign_for_handoff(request.user, handoff):
        raise PermissionDenied
    return _run(
        request,
        lambda: services.acknowledge_handoff(
            handoff_id=handoff.pk, department=handoff.target_department, actor=request.user
        ),
        success=_("已签收"),
        back=reverse("handoffs:detail", args=[handoff.pk]),
    )


# --- endpoint configuration (department administrators) -----------------------------------


@office_staff_required
@require_GET
def endpoint_home(request: HttpRequest) -> HttpResponse:
    department_ids = selectors.administered_department_ids(request.user)
    if department_ids:
        return HttpResponseRedirect(
            reverse("handoffs:endpoint-department", args=[department_ids[0]])
        )
    if permissions.is_platform_admin(request.user):
        return HttpResponseRedirect(reverse("admin:handoffs_departmentendpoint_changelist"))
    raise PermissionDenied


def _configurable(request: HttpRequest, department_id: int) -> Any:
    if not permissions.can_configure_endpoint(request.user, department_id):
        raise PermissionDenied
    department = selectors.get_department(department_id)
    if department is None:
        raise Http404
    return department


def _endpoint_page(
    request: HttpRequest,
    department: Any,
    *,
    form: EndpointForm | None = None,
    new_key: Any = None,
    status: int = 200,
) -> HttpResponse:
    endpoint = selectors.get_endpoint(department)
    if form is None:
        form = EndpointForm(initial=selectors.endpoint_initial(endpoint))
    keys = selectors.list_signing_keys(endpoint)
    response = render(
        request,
        "handoffs/endpoint.html",
        {
            "office_section": "handoffs",
            "department": department,
            "departments": selectors.administered_departments(request.user),
            "endpoint": endpoint,
            "form": form,
            "keys": keys,
            "new_key": new_key,
            "suggested_key_id": f"k{len(keys) + 1}",
        },
        status=status,
    )
    if new_key is not None:
        # The secret is in this response only: never cached, never stored in the session.
        response["Cache-Control"] = "no-store"
    return response


@office_staff_required
@require_http_methods(["GET", "POST"])
def endpoint_config(request: HttpRequest, department_id: int) -> HttpResponse:
    department = _configurable(request, department_id)
    if request.method == "GET":
        return _endpoint_page(request, department)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            services.configure_endpoint(
                department=department, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("交接接收配置已保存"))
            return HttpResponseRedirect(request.path)
    return _endpoint_page(request, department, form=form, status=400)


@office_staff_required
@require_POST
def signing_key_add(request: HttpRequest, department_id: int) -> HttpResponse:
    department = _configurable(request, department_id)
    endpoint = selectors.get_endpoint(department)
    form = SigningKeyForm(request.POST)
    if endpoint is None or not form.is_valid():
        messages.error(request, _("密钥编号无效，或尚未保存接收方式"))
        return HttpResponseRedirect(reverse("handoffs:endpoint-department", args=[department.pk]))
    try:
        key = services.add_signing_key(
            endpoint=endpoint, actor=request.user, key_id=form.cleaned_data["key_id"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("handoffs:endpoint-department", args=[department.pk]))
    return _endpoint_page(request, department, new_key=key)


@office_staff_required
@require_POST
def signing_key_deactivate(request: HttpRequest, department_id: int, key_id: int) -> HttpResponse:
    department = _configurable(request, department_id)
    endpoint = selectors.get_endpoint(department)
    if endpoint is None or not selectors.key_belongs_to(endpoint, key_id):
        raise Http404
    return _run(
        request,
        lambda: services.deactivate_signing_key(
            key_id=key_id, endpoint=endpoint, actor=request.user
        ),
        success=_("密钥已停用"),
        back=reverse("handoffs:endpoint-department", args=[department.pk]),
    )
