"""一窗受理: the window flow (receive and accept, or receive and issue the 一次性告知书),
including walk-ins without an account and their later claim."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases.constants import (
    Actor,
    CaseKind,
    Channel,
    DayUnit,
    MaterialSource,
    MaterialStatus,
)
from apps.cases.exceptions import CaseActionForbidden
from apps.cases.models import (
    Case,
    CaseMaterial,
    SupplementNotice,
)
from apps.cases.permissions import CaseActor, actor_kinds
from apps.cases.services._base import _event, _lock, _slots
from apps.cases.services.drafts import _new_case
from apps.cases.services.intake import _accept, _check_due, _request_supplement, _submit
from apps.catalog.constants import MaterialRequirement
from apps.core.exceptions import DomainError

# --- 一窗受理: the window flow ----------------------------------------------------------------


def create_window_case(
    *,
    clerk: Any,
    version: Any,
    applicant_user: Any | None,
    enterprise: Any | None = None,
    acting_user: Any | None = None,
    walk_in_person: Any | None = None,
    window_capacity: str = "",
    form_data: Mapping[str, Any] | None = None,
    received_keys: Iterable[str] = (),
    tolerances: Sequence[Mapping[str, Any]] = (),
    accept: bool = True,
    hall: Any | None = None,
) -> Case:
    """Create, submit and (by default) accept a walk-in case in one transaction.

    The clerk ticks the paper materials received; the case goes through the same transitions
    as an online one (draft → submitted → accepted, or → completed for 即办件), each with its
    event and audit record. Any refusal rolls back the whole flow.

    A person without an account is served through their ``walk_in_person`` record (the clerk
    checked their ID card against the registry, ``identity.services.identify_at_window``):
    the case then has no account behind it until they claim it (``claim_walk_in_cases``);
    its notices go by SMS to the phone the clerk recorded.
    """
    with transaction.atomic(durable=True):
        return _create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=applicant_user,
            enterprise=enterprise,
            acting_user=acting_user,
            walk_in_person=walk_in_person,
            window_capacity=window_capacity,
            form_data=form_data,
            received_keys=received_keys,
            tolerances=tolerances,
            accept=accept,
            hall=hall,
        )


def _create_window_case(
    *,
    clerk: Any,
    version: Any,
    applicant_user: Any | None,
    enterprise: Any | None,
    acting_user: Any | None,
    walk_in_person: Any | None,
    window_capacity: str,
    form_data: Mapping[str, Any] | None,
    received_keys: Iterable[str],
    tolerances: Sequence[Mapping[str, Any]],
    accept: bool,
    hall: Any | None,
) -> Case:
    """``create_window_case`` inside the caller's transaction."""
    actor = CaseActor.of(clerk)
    person = acting_user or applicant_user or walk_in_person
    if person is None:
        raise DomainError(_("请先确认申请人身份"), code="applicant_required")
    case = _new_case(
        version=version,
        acting_user=acting_user or applicant_user,
        applicant_user=applicant_user,
        enterprise=enterprise,
        channel=Channel.WINDOW,
        form_data=form_data,
        hall=hall,
        walk_in_person=walk_in_person,
        window_capacity=window_capacity,
    )
    kinds = actor_kinds(actor, case)
    if Actor.CLERK not in kinds:
        raise CaseActionForbidden(_("您不是该事项实施部门的受理人员"), code="forbidden")
    data: dict[str, Any] = {"item_version": version.pk, "channel": Channel.WINDOW}
    if walk_in_person is not None:
        data["walk_in_person"] = walk_in_person.pk
    if window_capacity:
        data["capacity"] = window_capacity
    _event(
        case,
        action="draft_created",
        actor=actor,
        actor_kind=Actor.CLERK,
        from_status="",
        data=data,
    )
    slots = _slots(case)
    now = timezone.now()
    for key in dict.fromkeys(received_keys):
        slot = slots.get(key)
        if slot is None:
            raise DomainError(_("该事项没有这项材料"), code="unknown_material")
        CaseMaterial.objects.create(
            case=case,
            slot_key=key,
            name=slot.name,
            source=MaterialSource.PAPER,
            copies=slot.copies,
            added_by=clerk,
            status=MaterialStatus.ACCEPTED,
            checked_by=clerk,
            checked_at=now,
        )
    _submit(case, actor, require_materials=False)
    if accept:
        _accept(case, actor, tolerances=tolerances, instant=version.case_kind == CaseKind.INSTANT)
    return case


# --- 一窗受理 with materials missing: receive and issue the 一次性告知书 -----------------------

NOTICE_REASON_MAX = 300


def window_supplement_items(
    *, version: Any, received_keys: Iterable[str], reasons: Mapping[str, str]
) -> list[dict[str, str]]:
    """Everything the one-time notice must list, all at once: each required material the clerk
    did not receive (with the clerk's note, or "未提交该材料"), and every other material the
    clerk wrote a note for (received but defective, or an optional one this applicant needs).

    Refused when the list would be empty (then nothing is missing: accept instead).
    """
    received = set(received_keys)
    items: list[dict[str, str]] = []
    for slot in version.materials.all().order_by("order", "pk"):
        reason = str(reasons.get(slot.key, "")).strip()[:NOTICE_REASON_MAX]
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
    """一窗受理 with materials missing: receive the case (收件) with the paper materials ticked
    and issue its 一次性告知书 (行政许可法 Art. 32, DOMAIN.md §1.5), so the applicant leaves the
    window with one written list of everything still to bring.

    One transaction: the case is created and submitted as ``create_window_case`` does (without
    acceptance), then locked (``select_for_update``) and sent to 待补正 as
    ``request_supplement`` does; each step writes its case event and audit record. Any refusal —
    an empty list, a period outside 1–60 days, or any refusal of either step — rolls back
    everything: no case, no event, no notice. Notifications leave on commit. Not idempotent:
    each call receives a new case.
    """
    items = window_supplement_items(version=version, received_keys=received_keys, reasons=reasons)
    _check_due(due_days, due_unit)
    with transaction.atomic(durable=True):
        received = _create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=applicant_user,
            enterprise=enterprise,
            acting_user=acting_user,
            walk_in_person=walk_in_person,
            window_capacity=window_capacity,
            form_data=form_data,
            received_keys=received_keys,
            tolerances=(),
            accept=False,
            hall=hall,
        )
        return _request_supplement(
            _lock(received.pk),
            CaseActor.of(clerk),
            items=items,
            due_days=int(due_days),
            due_unit=due_unit,
            note=note,
        )


def claim_walk_in_cases(*, walk_in_person: Any, user: Any) -> int:
    """The walk-in's cases become ``user``'s (identity calls this while it claims the
    ``WalkInPerson`` for the account that verified the same ID number; inside that
    transaction, not durable). A person's case gets ``user`` as applicant and acting person,
    an enterprise's case as acting person (the agent). Each moved case gets a public
    ``claimed`` event and its audit record; a case already bound to an account is left as it
    is. Returns how many cases moved."""
    moved = 0
    cases = (
        Case.objects.select_for_update(of=("self",))
        .filter(walk_in_person=walk_in_person)
        .order_by("pk")
    )
    for case in cases:
        changes: dict[str, Any] = {}
        if case.acting_user_id is None:
            changes["acting_user"] = user
        if case.enterprise_id is None and case.applicant_user_id is None:
            changes["applicant_user"] = user
        if not changes:
            continue
        for name, value in changes.items():
            setattr(case, name, value)
        case.save(update_fields=[*changes, "updated_at"])
        _event(
            case,
            action="claimed",
            actor=CaseActor.of(user),
            actor_kind=Actor.APPLICANT,
            from_status=case.status,
            data={"walk_in_person": walk_in_person.pk, "fields": sorted(changes)},
        )
        moved += 1
    return moved
