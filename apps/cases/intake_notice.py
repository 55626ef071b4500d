"""一窗受理 with materials missing: receive the case (收件) and issue the 一次性告知书 from the
intake screen, so the applicant leaves the window with one written list of everything still
to bring (行政许可法 Art. 32, DOMAIN.md §1.5).

The two steps are the existing entry services, ``create_window_case`` (without acceptance)
then ``request_supplement``; each is its own durable transaction, evented and audited. The
list is checked here first with the same rules ``request_supplement`` applies, so the second
step has nothing left to refuse on a case received a moment ago; if it still refuses, the
received case stays in the clerk's queue (待受理) and ``SupplementNotIssued`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from apps.cases import services
from apps.cases.constants import DayUnit
from apps.cases.models import Case, SupplementNotice
from apps.cases.permissions import CaseActor
from apps.catalog.constants import MaterialRequirement
from apps.core.exceptions import DomainError

REASON_MAX = 300


class SupplementNotIssued(DomainError):
    """The case was received but the notice was refused; ``case`` is the received case."""

    def __init__(self, message: str, *, code: str, case: Case) -> None:
        super().__init__(message, code=code)
        self.case = case


def window_supplement_items(
    *, version: Any, received_keys: Iterable[str], reasons: Mapping[str, str]
) -> list[dict[str, str]]:
    """Everything the notice must list, all at once: each required material the clerk did not
    receive (with the clerk's note, or "未提交该材料"), and every other material the clerk wrote
    a note for (received but defective, or an optional one this applicant needs).

    Refused when the list would be empty (then nothing is missing: accept instead).
    """
    received = set(received_keys)
    items: list[dict[str, str]] = []
    for slot in version.materials.all().order_by("order", "pk"):
        reason = str(reasons.get(slot.key, "")).strip()[:REASON_MAX]
        missing = slot.requirement == MaterialRequirement.REQUIRED and slot.key not in received
        if missing and not reason:
            reason = _("未提交该材料")
        if reason:
            items.append({"key": slot.key, "reason": reason})
    if not items:
        raise DomainError(
            _("必要材料已齐全：请直接受理；如材料有缺陷，请在该材料后写明需要补正的内容"),
            code="items_required",
        )
    return items


def issue_window_supplement(
    *,
    clerk: Any,
    version: Any,
    applicant_user: Any | None,
    enterprise: Any | None = None,
    acting_user: Any | None = None,
    walk_in_person: Any | None = None,
    window_capacity: str = "",
    form_data: Mapping[str, Any] | None = None,
    received_keys: Sequence[str] = (),
    reasons: Mapping[str, str],
    due_days: int,
    due_unit: str = DayUnit.WORKING,
    note: str = "",
    hall: Any | None = None,
) -> SupplementNotice:
    """Receive a walk-in case with the paper materials ticked and issue its one-time notice.

    Refusals before anything is written: an empty list, a period outside 1–60 days, and every
    refusal of ``create_window_case`` (form, identity, the clerk's department). Side effects:
    those of the two services (case events, audit records, the applicant's notification).
    Not idempotent: each call receives a new case.
    """
    items = window_supplement_items(version=version, received_keys=received_keys, reasons=reasons)
    if due_unit not in DayUnit.values or not 1 <= int(due_days) <= 60:
        raise DomainError(_("补正期限应为 1 至 60 天"), code="invalid_due")
    case = services.create_window_case(
        clerk=clerk,
        version=version,
        applicant_user=applicant_user,
        enterprise=enterprise,
        acting_user=acting_user,
        walk_in_person=walk_in_person,
        window_capacity=window_capacity,
        form_data=form_data,
        received_keys=received_keys,
        accept=False,
        hall=hall,
    )
    try:
        return services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=items,
            due_days=int(due_days),
            due_unit=due_unit,
            note=note,
        )
    except DomainError as exc:
        raise SupplementNotIssued(exc.message, code=exc.code, case=case) from exc
