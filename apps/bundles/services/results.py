"""补正 and 统一出件 from the bundle's own page: a child case's supplement answered where the
applicant follows the whole bundle, the applicant's choice of how the results reach them, and the
window handing every child's result over at once (DOMAIN.md §5.3 限时办结 / 统一出件)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles.constants import ApplicationStatus, DeliveryMethod
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.services import (
    CLERK_ROLES,
    CaseActionForbidden,
    CaseActor,
    IllegalTransition,
    add_material_upload,
    deliver_case,
    resubmit_case,
)
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.uploads import check_upload

logger = logging.getLogger(__name__)


def open_supplement_items(case: Case) -> list[dict[str, Any]]:
    """The items of the case's open supplement notice (``[{key, name, reason}]``); uses the
    ``open_notices`` prefetch of the bundle selectors when present."""
    notices = getattr(case, "open_notices", None)
    if notices is None:
        notices = list(
            case.supplement_notices.filter(fulfilled_at__isnull=True).order_by("-sequence")[:1]
        )
    return list(notices[0].items) if notices else []


def answer_child_supplement(
    *,
    application_id: int,
    child_id: int,
    user: Any,
    files: Mapping[str, Any],
    note: str = "",
) -> Case:
    """补正 from the bundle page: upload every material the child's notice lists, then hand the
    supplement in (the cases app's own services, so the case keeps its legal timeline).

    Every listed material must come with a valid file, checked before anything is written; a
    refusal (not the applicant's, not awaiting supplement, a file missing or bad) changes
    nothing."""
    child = (
        BundleChild.objects.select_related("case", "application", "component__item_version")
        .filter(pk=child_id, application_id=application_id)
        .first()
    )
    if child is None or child.application.applicant_user_id != getattr(user, "pk", None):
        raise DomainError(_("未找到该事项"), code="not_found")
    case = child.case
    if case is None or case.status != CaseStatus.AWAITING_SUPPLEMENT:
        raise DomainError(_("该事项当前不需要补正"), code="illegal_transition")
    items = open_supplement_items(case)
    missing = [item["name"] for item in items if files.get(item["key"]) is None]
    if missing:
        raise DomainError(
            _("请上传以下补正材料：%(names)s") % {"names": join_list(missing)},
            code="supplement_incomplete",
        )
    for item in items:
        check_upload(files[item["key"]])
        files[item["key"]].seek(0)
    actor = CaseActor.of(user)
    for item in items:
        add_material_upload(
            case_id=case.pk, actor=actor, slot_key=item["key"], upload=files[item["key"]]
        )
    resubmit_case(case_id=case.pk, actor=actor, note=note.strip()[:300])
    with transaction.atomic(durable=True):
        record_audit_event(
            actor=user,
            action="bundles.supplement_answered",
            obj=child,
            data={"case": case.pk, "items": [item["key"] for item in items]},
        )
    case.refresh_from_db()
    return case


def choose_bundle_delivery(
    *, application_id: int, user: Any, method: str, address: str = ""
) -> BundleApplication:
    """The applicant chooses how the results reach them: all at once at the window, all at once
    by post (address required), or each licence to the wallet as it is issued. Changeable until
    the results have been handed over."""
    if method not in DeliveryMethod.values:
        raise DomainError(_("请选择有效的出件方式"), code="invalid_delivery")
    address = address.strip()
    if method == DeliveryMethod.POST and not address:
        raise DomainError(_("选择邮寄送达时请填写邮寄地址"), code="address_required")
    if len(address) > 200:
        raise DomainError(_("邮寄地址不得超过 200 个字"), code="address_too_long")
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().filter(pk=application_id)
        application = application.first()
        if application is None or application.applicant_user_id != getattr(user, "pk", None):
            raise DomainError(_("未找到该申请"), code="not_found")
        if application.results_delivered_at is not None:
            raise DomainError(_("结果已统一送达，不能再修改出件方式"), code="already_delivered")
        if application.withdrawn_at is not None:
            raise DomainError(_("该申请已撤回"), code="illegal_transition")
        application.delivery_method = method
        application.delivery_address = address if method == DeliveryMethod.POST else ""
        application.save(update_fields=["delivery_method", "delivery_address", "updated_at"])
        record_audit_event(
            actor=user, action="bundles.delivery_chosen", obj=application, data={"method": method}
        )
    return application


_DELIVERABLE = {CaseStatus.COMPLETED}
_WAITING_FOR_COMPLETION = {CaseStatus.DECIDED}


def deliver_bundle_results(*, application_id: int, clerk: Any) -> dict[str, int]:
    """统一出件: once no child is still being handled, the window hands over every child's
    result at once (each completed child case delivered for its department, by the chosen
    method). Returns ``{"delivered": n, "left": m}``; m counts results not handed over yet (a
    department still to 办结, or one the clerk holds no window role for). The bundle is marked
    delivered when nothing is left."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if application.status == ApplicationStatus.IN_PROGRESS:
            raise DomainError(_("仍有事项在办理中，全部办结后才能统一出件"), code="not_concluded")
        if application.status == ApplicationStatus.WITHDRAWN:
            raise DomainError(_("该申请已撤回"), code="illegal_transition")
        if application.results_delivered_at is not None:
            raise DomainError(_("结果已统一送达"), code="already_delivered")
        departments = set(
            application.children.values_list("component__item_version__department_id", flat=True)
        )
        if not clerk.memberships.filter(
            department_id__in=departments, is_active=True, role__in=CLERK_ROLES
        ).exists():
            raise DomainError(_("您不是该一件事任何部门的窗口人员"), code="forbidden")
    actor = CaseActor.of(clerk)
    delivered = left = 0
    children = application.children.filter(case__isnull=False).select_related("case")
    for child in children.order_by("pk"):
        status = child.case.status
        if status in _WAITING_FOR_COMPLETION:
            left += 1
        elif status in _DELIVERABLE:
            try:
                deliver_case(case_id=child.case_id, actor=actor, method=application.delivery_method)
            except (CaseActionForbidden, IllegalTransition, DomainError) as exc:
                logger.info(
                    "bundles.result_not_delivered",
                    extra={"case_id": child.case_id, "code": getattr(exc, "code", "")},
                )
                left += 1
            else:
                delivered += 1
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if left == 0 and application.results_delivered_at is None:
            application.results_delivered_at = timezone.now()
            application.results_delivered_by = clerk
            application.save(
                update_fields=["results_delivered_at", "results_delivered_by", "updated_at"]
            )
        record_audit_event(
            actor=clerk,
            action="bundles.results_delivered",
            obj=application,
            data={"delivered": delivered, "left": left, "method": application.delivery_method},
        )
    return {"delivered": delivered, "left": left}


def deliver_issued_to_wallet(*, application_id: int) -> int:
    """出件 to the wallet: when the applicant chose it, every child whose case is 办结 with a
    result licence issued (``result_data["licence"]``, recorded by the licences decision
    handler) is marked delivered at once, one by one as they are issued, without waiting for
    the rest of the bundle. The e-licence is already in the holder's wallet when it is issued;
    this closes the child case as delivered, in the name of the issuing department's system
    (electronic delivery by the department, not a window hand-over), audited. Idempotent: a
    delivered case is no longer ``completed``. Returns how many were delivered."""
    application = BundleApplication.objects.filter(pk=application_id).first()
    if (
        application is None
        or application.delivery_method != DeliveryMethod.WALLET
        or application.withdrawn_at is not None
    ):
        return 0
    ready = (
        application.children.filter(case__status=CaseStatus.COMPLETED)
        .filter(case__result_data__has_key="licence")
        .select_related("case__department")
        .order_by("pk")
    )
    delivered = 0
    for child in ready:
        actor = CaseActor(department=child.case.department)
        try:
            deliver_case(
                case_id=child.case_id,
                actor=actor,
                method=DeliveryMethod.WALLET,
                note=_("电子证照已存入申请人的证照夹"),
            )
        except (CaseActionForbidden, IllegalTransition) as exc:
            # Delivered or changed meanwhile (another pass, the window): nothing to do.
            logger.info(
                "bundles.wallet_not_delivered",
                extra={"case_id": child.case_id, "code": getattr(exc, "code", "")},
            )
            continue
        with transaction.atomic(durable=True):
            record_audit_event(
                actor=None,
                action="bundles.result_to_wallet",
                obj=application,
                data={"case_id": child.case_id, "component": child.component_id},
            )
        delivered += 1
    return delivered


def wallet_deliveries_pending() -> Any:
    """Applications whose chosen wallet delivery has a completed child with its licence issued
    and not yet delivered (the sweeper re-enqueues them: completion may come long after the
    decision, from the department's screen or system)."""
    return BundleApplication.objects.filter(
        delivery_method=DeliveryMethod.WALLET,
        withdrawn_at__isnull=True,
        children__case__status=CaseStatus.COMPLETED,
        children__case__result_data__has_key="licence",
    ).distinct()
