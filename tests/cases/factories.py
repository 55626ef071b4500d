"""Case test data, built through the services so every row is one the app could produce."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.cases import services
from apps.cases.constants import CaseStatus, DayUnit, Decision, PauseKind
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.catalog.models import ItemVersion
from apps.identity.constants import StaffRole
from tests.catalog.factories import published_item
from tests.identity.factories import StaffMembershipFactory, verified_user

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"

FORM = {
    "applicant_name": "张伟",
    "id_number": "11010519491231002X",
    "mobile": "13800138000",
    "reason": "first",
    "agree": True,
}


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def item_version(department: Any, **overrides: Any) -> ItemVersion:
    return published_item(department, **overrides)[1]


def reviewer_of(department: Any) -> Any:
    return StaffMembershipFactory(department=department, role=StaffRole.REVIEWER).user


def clerk_of(department: Any) -> Any:
    return StaffMembershipFactory(department=department, role=StaffRole.CLERK).user


def citizen(name: str = "张伟") -> Any:
    return verified_user(name)


def draft(version: ItemVersion, user: Any, *, with_materials: bool = True) -> Case:
    case = services.create_draft(user=user, version=version, form_data=FORM)
    if with_materials:
        for slot in version.materials.all():
            services.add_material_upload(
                case_id=case.pk, actor=CaseActor.of(user), slot_key=slot.key, upload=pdf()
            )
    return case


def case_in(
    status: str, *, version: ItemVersion, applicant: Any, clerk: Any, reviewer: Any
) -> Case:
    """A case driven through the services to ``status``."""
    me, window, dept = CaseActor.of(applicant), CaseActor.of(clerk), CaseActor.of(reviewer)
    case = draft(version, applicant)
    if status == CaseStatus.DRAFT:
        return case
    services.submit_case(case_id=case.pk, actor=me)
    steps: dict[str, list] = {
        CaseStatus.SUBMITTED: [],
        CaseStatus.PRECHECKED: [lambda: services.precheck_case(case_id=case.pk, actor=window)],
        CaseStatus.AWAITING_SUPPLEMENT: [lambda: _supplement(case, window)],
        CaseStatus.SUPPLEMENTED: [
            lambda: _supplement(case, window),
            lambda: _resubmit(case, applicant),
        ],
        CaseStatus.NOT_ACCEPTED: [
            lambda: services.reject_case(
                case_id=case.pk,
                actor=window,
                reason="不属于本机关职权",
                legal_basis="《中华人民共和国行政许可法》第三十二条",
            )
        ],
        CaseStatus.ACCEPTED: [lambda: services.accept_case(case_id=case.pk, actor=window)],
        CaseStatus.IN_REVIEW: [
            lambda: services.accept_case(case_id=case.pk, actor=window),
            lambda: services.start_review(case_id=case.pk, actor=dept),
        ],
        CaseStatus.SUSPENDED: [
            lambda: services.accept_case(case_id=case.pk, actor=window),
            lambda: services.start_review(case_id=case.pk, actor=dept),
            lambda: services.suspend_case(
                case_id=case.pk, actor=dept, kind=PauseKind.ON_SITE, reason="现场核查"
            ),
        ],
        CaseStatus.DECIDED: [
            lambda: services.accept_case(case_id=case.pk, actor=window),
            lambda: services.start_review(case_id=case.pk, actor=dept),
            lambda: services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED),
        ],
        CaseStatus.COMPLETED: [
            lambda: services.accept_case(case_id=case.pk, actor=window),
            lambda: services.start_review(case_id=case.pk, actor=dept),
            lambda: services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED),
            lambda: services.complete_case(case_id=case.pk, actor=dept),
        ],
        CaseStatus.DELIVERED: [
            lambda: services.accept_case(case_id=case.pk, actor=window),
            lambda: services.start_review(case_id=case.pk, actor=dept),
            lambda: services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED),
            lambda: services.complete_case(case_id=case.pk, actor=dept),
            lambda: services.deliver_case(case_id=case.pk, actor=window),
        ],
        CaseStatus.WITHDRAWN: [
            lambda: services.withdraw_case(case_id=case.pk, actor=me, reason="不再需要")
        ],
    }
    for step in steps[status]:
        step()
    case.refresh_from_db()
    assert case.status == status
    return case


def _supplement(case: Case, clerk_actor: CaseActor) -> None:
    services.request_supplement(
        case_id=case.pk,
        actor=clerk_actor,
        items=[{"key": "application", "reason": "申请表未签字"}],
        due_days=5,
        due_unit=DayUnit.WORKING,
    )


def _resubmit(case: Case, applicant: Any) -> None:
    me = CaseActor.of(applicant)
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="application", upload=pdf())
    services.resubmit_case(case_id=case.pk, actor=me)
