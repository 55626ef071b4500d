"""Drafts: an applicant starts, saves and discards an application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases import personal
from apps.cases.constants import (
    Actor,
    ApplicantKind,
    CaseStatus,
    Channel,
)
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.models import (
    Case,
)
from apps.cases.permissions import CaseActor, actor_kinds
from apps.cases.services._base import _event, _lock
from apps.catalog.constants import Channel as CatalogChannel
from apps.core import uploads
from apps.core.exceptions import DomainError

# --- drafts and materials (applicant) -------------------------------------------------------


def _check_assurance(user: Any, version: Any) -> None:
    required = int(version.min_assurance_level or 1)
    if int(getattr(user, "assurance_level", 1)) < required:
        raise DomainError(
            _("办理该事项需要实名等级 L%(level)s 及以上，请先提升实名等级") % {"level": required},
            code="assurance_too_low",
        )


def _resolve_enterprise(user: Any, enterprise: Any, version: Any) -> Any | None:
    """The authorisation used to act for ``enterprise`` (None for its representatives)."""
    from apps.identity.selectors import active_authorisation, enterprise_capacity

    if not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态，不能申请"), code="enterprise_inactive")
    if enterprise_capacity(user, enterprise) is not None:
        return None
    authorisation = active_authorisation(
        user, enterprise, [version.implementation_code, version.basic_code]
    )
    if authorisation is None:
        raise DomainError(_("您没有代理该企业办理本事项的有效授权"), code="no_authorisation")
    return authorisation


def _new_case(
    *,
    version: Any,
    acting_user: Any | None,
    applicant_user: Any | None,
    enterprise: Any | None,
    channel: str,
    form_data: Mapping[str, Any] | None,
    hall: Any | None = None,
    walk_in_person: Any | None = None,
    window_capacity: str = "",
) -> Case:
    """A draft case. ``window_capacity`` is how the clerk identified the person acting for
    ``enterprise`` at the window (``apps.identity.services.WindowApplicant.capacity``): an
    online authorisation is then still checked against the item, a paper letter is not."""
    authorisation = None
    kind = ApplicantKind.PERSON
    if enterprise is not None:
        if acting_user is not None and window_capacity != "paper_agent":
            authorisation = _resolve_enterprise(acting_user, enterprise, version)
        else:
            _check_window_enterprise(enterprise, walk_in_person, window_capacity)
        kind = (
            ApplicantKind.AGENT
            if authorisation is not None or window_capacity in ("agent", "paper_agent")
            else ApplicantKind.ENTERPRISE
        )
    if enterprise is not None:
        name_source = enterprise.name
    elif applicant_user is not None:
        name_source = applicant_user.display_name
    else:
        name_source = walk_in_person.name
    case = Case(
        item_version=version,
        department_id=version.department_id,
        hall=hall,
        status=CaseStatus.DRAFT,
        channel=channel,
        kind=version.case_kind,
        applicant_user=applicant_user,
        enterprise=enterprise,
        acting_user=acting_user,
        walk_in_person=walk_in_person,
        applicant_kind=kind,
        authorisation=authorisation,
        applicant_name=str(name_source or acting_user.get_username())[:200],
    )
    personal.store_form(case, dict(form_data or {}))
    case.full_clean(exclude=["number"])
    case.save()
    return case


def _check_window_enterprise(enterprise: Any, walk_in_person: Any, capacity: str) -> None:
    """A walk-in acts for ``enterprise`` on a paper letter the clerk checked, or as the legal
    representative the 法人库 names (re-checked here, not taken from the session)."""
    from apps.identity.services import registry_names_legal_rep

    if not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态，不能申请"), code="enterprise_inactive")
    if capacity == "paper_agent":
        return
    if walk_in_person is not None and registry_names_legal_rep(
        enterprise, id_index=walk_in_person.id_number_index, name=walk_in_person.name
    ):
        return
    raise DomainError(_("请核验加盖单位公章的授权委托书"), code="authorisation_required")


def create_draft(
    *, user: Any, version: Any, enterprise: Any | None = None, form_data: Mapping | None = None
) -> Case:
    """Start an online application (草稿) for ``version`` as ``user`` (for ``enterprise``).

    Refused when the user's real-name level is below the item's minimum, or when the user may
    not act for the enterprise on this item.
    """
    _check_assurance(user, version)
    if version.channel == CatalogChannel.WINDOW:
        raise DomainError(_("该事项仅支持窗口办理，请到政务服务大厅申请"), code="window_only")
    with transaction.atomic(durable=True):
        case = _new_case(
            version=version,
            acting_user=user,
            applicant_user=None if enterprise is not None else user,
            enterprise=enterprise,
            channel=Channel.ONLINE,
            form_data=form_data,
        )
        _event(
            case,
            action="draft_created",
            actor=CaseActor.of(user),
            actor_kind=Actor.APPLICANT,
            from_status="",
            data={"item_version": version.pk},
        )
    return case


def save_draft(*, case_id: int, user: Any, form_data: Mapping[str, Any]) -> Case:
    """Store the form as typed so far (not validated yet; submission validates)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if Actor.APPLICANT not in actor_kinds(CaseActor.of(user), case):
            raise CaseActionForbidden(_("您无权修改该办件"), code="forbidden")
        if case.status != CaseStatus.DRAFT:
            raise IllegalTransition(_("只有草稿可以修改申请表"), code="illegal_transition")
        fields = personal.store_form(case, dict(form_data))
        case.save(update_fields=[*fields, "updated_at"])
        record_audit_event(actor=user, action="cases.draft_saved", obj=case)
    return case


def discard_draft(*, case_id: int, user: Any) -> None:
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if Actor.APPLICANT not in actor_kinds(CaseActor.of(user), case):
            raise CaseActionForbidden(_("您无权修改该办件"), code="forbidden")
        if case.status != CaseStatus.DRAFT:
            raise IllegalTransition(_("只有草稿可以删除"), code="illegal_transition")
        files = [m.file.name for m in case.materials.all() if m.file]
        record_audit_event(actor=user, action="cases.draft_discarded", obj=case)
        case.delete()
        storage = uploads.case_file_storage()
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
