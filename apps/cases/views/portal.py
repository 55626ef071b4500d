"""Citizens' pages: apply online, my cases, the case page (timeline, supplement, withdraw)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.cases import list_rows, personal, selectors, services
from apps.cases.api import file_response
from apps.cases.constants import Actor, CaseAction, CaseStatus, allowed_actions
from apps.cases.materials import wallet_licences
from apps.cases.permissions import CaseActor
from apps.cases.views.common import page_number, posted_form_data, run_service
from apps.core.exceptions import DomainError

PAGE_SIZE = 20


def _prefill(user: Any) -> dict[str, Any]:
    """Initial values from the profile for the common field names of application schemas."""
    person = getattr(user, "person", None) if hasattr(user, "person") else None
    initial: dict[str, Any] = {}
    if person is None:
        return initial
    name = getattr(person, "name", "")
    for key in ("applicant_name", "name", "contact_name", "agent_name"):
        initial[key] = name
    id_number = getattr(person, "id_number", None)
    if isinstance(id_number, str) and id_number:
        initial["id_number"] = id_number
        initial["agent_id_number"] = id_number
    phone = getattr(person, "phone", None)
    if isinstance(phone, str) and phone:
        initial["mobile"] = phone
        initial["phone"] = phone
    return initial


def _unit_prefill(enterprise: Any) -> dict[str, Any]:
    """The enterprise's own elements, for the schema's common field names."""
    return {"enterprise_name": enterprise.name, "uscc": enterprise.uscc}


def _profile_url() -> str:
    """The identity profile page (where the level is raised), once identity serves it."""
    try:
        return reverse("identity:profile")
    except NoReverseMatch:
        return "/"


def _form_for(
    version: Any, *, kind: str, data: dict | None = None, initial: dict | None = None
) -> Any:
    from apps.catalog.forms import build_application_form

    form = build_application_form(version, kind=kind)
    form.initial = {**(initial or {}), **(data or {})}
    return form


@login_required
def case_apply(request: HttpRequest, code: str) -> HttpResponse:
    """Start an online application from an item's guide; the form comes from the item schema."""
    from apps.catalog.selectors import get_item_for_apply
    from apps.identity.selectors import acting_enterprises

    try:
        version = get_item_for_apply(code)
    except (ObjectDoesNotExist, DomainError) as exc:
        raise Http404 from exc
    required = int(version.min_assurance_level or 1)
    if int(request.user.assurance_level) < required:
        return render(
            request,
            "cases/raise_level.html",
            {
                "version": version,
                "required": required,
                "current": request.user.assurance_level,
                "profile_url": _profile_url(),
            },
            status=403,
        )
    enterprises = list(acting_enterprises(request.user))
    # The applicant is chosen first (a GET form, works without JS): the form's fields and
    # promises depend on who applies (issue 16 §5).
    chosen = request.POST.get("enterprise") or request.GET.get("enterprise") or ""
    enterprise = None
    if chosen:
        enterprise = next((e for e in enterprises if str(e.pk) == chosen), None)
        if enterprise is None:
            raise Http404
    kind = selectors.applicant_kind_for(request.user, enterprise)
    initial = _prefill(request.user)
    if enterprise is not None:
        initial.update(_unit_prefill(enterprise))
    form = _form_for(version, kind=kind, initial=initial)
    if request.method == "POST":
        data = posted_form_data(request, list(form.fields))
        try:
            case = services.create_draft(
                user=request.user, version=version, enterprise=enterprise, form_data=data
            )
        except DomainError as exc:
            from django.contrib import messages

            messages.error(request, exc.message)
            form = _form_for(version, kind=kind, data=data)
        else:
            return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
    return render(
        request,
        "cases/apply.html",
        {
            "version": version,
            "form": form,
            "enterprises": enterprises,
            "enterprise": enterprise,
            "kind": kind,
            "material_hint": selectors.upload_hint(),
        },
    )


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    page = page_number(request)
    rows = selectors.case_rows(
        selectors.list_cases_for_applicant(request.user)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    labels = list_rows.my_case_labels()
    return render(
        request,
        "cases/my_cases.html",
        {
            "cases": bool(rows),
            "labels": labels,
            "rows_html": list_rows.my_case_rows(rows[:PAGE_SIZE], labels),
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
        },
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    slots = list(case.item_version.materials.all().order_by("order", "pk"))
    current = {}
    for material in selectors.current_materials(case):
        current.setdefault(material.slot_key, []).append(material)
    notice = case.supplement_notices.order_by("-sequence").first()
    actions = allowed_actions(case.status, Actor.APPLICANT)
    tolerances = list(case.tolerances.all())
    form = (
        _form_for(case.item_version, kind=case.applicant_kind, data=personal.full_form(case))
        if case.status == CaseStatus.DRAFT
        else None
    )
    editable_keys = _editable_slot_keys(case, slots, tolerances)
    _attach_wallet_choices(case, [slot for slot in slots if slot.key in editable_keys])
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "events": selectors.case_timeline(case, public_only=True).select_related(None),
            "slots": [(slot, current.get(slot.key, [])) for slot in slots],
            "notice": notice,
            "form": form,
            "form_rows": personal.form_rows(case) if form is None else [],
            "editable_keys": editable_keys,
            "can_submit": CaseAction.SUBMIT in actions,
            "can_resubmit": CaseAction.RESUBMIT in actions,
            "can_withdraw": CaseAction.WITHDRAW in actions,
            "sla": selectors.sla_figures(case),
            "tolerances": tolerances,
            "material_hint": selectors.upload_hint(),
            "progress": selectors.progress_steps(case),
            "next_steps": selectors.result_next_steps(case),
        },
    )


def _attach_wallet_choices(case: Any, slots: list[Any]) -> None:
    """免提交 choices on each editable slot (``slot.wallet_choices``): the applicant's valid
    licences of an accepted type, from the wallet seam (one lookup for all slots)."""
    types = sorted({code for slot in slots for code in slot.licence_types or []})
    held = wallet_licences(
        user=case.applicant_user or case.acting_user,
        enterprise=case.enterprise,
        licence_types=types,
    )
    for slot in slots:
        slot.wallet_choices = [ref for ref in held if ref.licence_type in slot.licence_types]


def _editable_slot_keys(case: Any, slots: list[Any], tolerances: list[Any]) -> set[str]:
    """Slots the applicant may supply now: all of them in a draft or while a supplement is
    awaited; after acceptance, only the materials tolerated at acceptance (容缺) not yet in."""
    if case.status in (CaseStatus.DRAFT, CaseStatus.AWAITING_SUPPLEMENT):
        return {slot.key for slot in slots}
    if case.status in (CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED):
        return {t.slot_key for t in tolerances if t.fulfilled_at is None}
    return set()


def _back(case_id: int) -> str:
    return reverse("cases:detail", args=[case_id])


@login_required
@require_POST
def case_save_form(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    form = _form_for(case.item_version, kind=case.applicant_kind)
    data = posted_form_data(request, list(form.fields))
    return run_service(
        request,
        lambda: services.save_draft(case_id=case.pk, user=request.user, form_data=data),
        success=_("草稿已保存"),
        back=_back(case.pk),
    )


@login_required
@require_POST
def case_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    actor = CaseActor.of(request.user)
    slot_key = request.POST.get("slot", "")
    identifier = request.POST.get("licence_identifier", "").strip()
    shared_source = request.POST.get("shared_source", "").strip()
    if shared_source:
        call = lambda: services.add_material_shared(  # noqa: E731
            case_id=case.pk, actor=actor, slot_key=slot_key, shared_source=shared_source
        )
    elif identifier:
        call = lambda: services.add_material_licence(  # noqa: E731
            case_id=case.pk, actor=actor, slot_key=slot_key, identifier=identifier
        )
    else:
        upload = request.FILES.get("file")
        if upload is None:
            from django.contrib import messages

            messages.error(request, _("请选择要上传的文件"))
            return HttpResponseRedirect(_back(case.pk))
        call = lambda: services.add_material_upload(  # noqa: E731
            case_id=case.pk, actor=actor, slot_key=slot_key, upload=upload
        )
    return run_service(request, call, success=_("材料已提交"), back=_back(case.pk))


@login_required
@require_POST
def case_submit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    form = _form_for(case.item_version, kind=case.applicant_kind)
    return run_service(
        request,
        lambda: services.submit_case(case_id=case.pk, actor=CaseActor.of(request.user)),
        success=_("申请已提交，请留意办理进度"),
        back=_back(case.pk),
        labels={name: field.label for name, field in form.fields.items()},
    )


@login_required
@require_POST
def case_resubmit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    return run_service(
        request,
        lambda: services.resubmit_case(
            case_id=case.pk, actor=CaseActor.of(request.user), note=request.POST.get("note", "")
        ),
        success=_("补正材料已提交"),
        back=_back(case.pk),
    )


@login_required
@require_POST
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_applicant(user=request.user, case_id=case_id)
    return run_service(
        request,
        lambda: services.withdraw_case(
            case_id=case.pk, actor=CaseActor.of(request.user), reason=request.POST.get("reason", "")
        ),
        success=_("申请已撤回"),
        back=_back(case.pk),
    )


@login_required
def material_download(request: HttpRequest, material_id: int) -> FileResponse:
    """A material file, for the applicant or staff of the case's department only."""
    return file_response(
        selectors.get_material_for_user(user=request.user, material_id=material_id)
    )


@login_required
def case_notice(request: HttpRequest, case_id: int, kind: str) -> HttpResponse:
    """Printable 受理通知书 / 不予受理通知书 / 一次性告知书 / 许可决定书 (applicant or staff)."""
    case = selectors.get_case_for_user(user=request.user, case_id=case_id)
    return render_notice(request, case, kind)


NOTICE_KINDS = {
    "acceptance": ("cases/notice_acceptance.html", {CaseStatus.ACCEPTED}),
    "not-accepted": ("cases/notice_not_accepted.html", {CaseStatus.NOT_ACCEPTED}),
    "supplement": ("cases/notice_supplement.html", set()),
    # 准予 / 部分准予 / 不予行政许可决定书 (行政许可法 Art. 38), once decided.
    "decision": ("cases/notice_decision.html", set()),
}


def render_notice(request: HttpRequest, case: Any, kind: str) -> HttpResponse:
    if kind not in NOTICE_KINDS:
        raise Http404
    template, _states = NOTICE_KINDS[kind]
    context: dict[str, Any] = {"case": case}
    if kind == "acceptance" and case.accepted_at is None:
        raise Http404
    if kind == "not-accepted" and case.status != CaseStatus.NOT_ACCEPTED:
        raise Http404
    if kind == "decision":
        if not case.decision or case.decided_at is None:
            raise Http404
        context["next_steps"] = selectors.result_next_steps(case)
    if kind == "supplement":
        notice = case.supplement_notices.order_by("-sequence").first()
        if notice is None:
            raise Http404
        context["notice"] = notice
    return render(request, template, context)
