"""The decision hook of ``apps.cases.hooks``: the result licence of an approved case."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.hooks import DecisionEvent
from apps.cases.services import record_result_licence
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.licences.constants import (
    LicenceAction,
    LicenceStatus,
)
from apps.licences.models import (
    Licence,
    LicenceType,
)
from apps.licences.services.common import (
    Holder,
    LicenceActor,
    holder_code_index,
    holder_of,
)
from apps.licences.services.issuance import _change, _issue

logger = logging.getLogger(__name__)


def _face_from_case(licence_type: LicenceType, holder: Holder, case: Any) -> dict[str, Any]:
    keys = {f["key"] for f in licence_type.face_fields}
    face: dict[str, Any] = {}
    name_key = "XM" if "XM" in keys else "MC"
    if name_key in keys:
        face[name_key] = holder.name
    if "FDDBR" in keys and holder.enterprise is not None:
        face["FDDBR"] = holder.enterprise.legal_rep_name
    if "ZS" in keys and holder.enterprise is not None and holder.enterprise.address:
        face["ZS"] = holder.enterprise.address
    given = (case.result_data or {}).get("licence_face") or {}
    if isinstance(given, Mapping):
        face.update({k: v for k, v in given.items() if k in keys})
    return face


def _held_by_issuer(
    licence_type: LicenceType, holder: Holder, department: Department
) -> Licence | None:
    if licence_type.allows_multiple:
        return None
    return (
        Licence.objects.select_for_update(of=("self",))
        .select_related("licence_type", "issuer", "issuer__region")
        .filter(
            licence_type=licence_type,
            holder_code_type=holder.code_type,
            holder_code_index=holder_code_index(holder.code),
            issuer=department,
            status=LicenceStatus.VALID,
        )
        .first()
    )


def issue_result_licence(event: DecisionEvent) -> None:
    """Decision handler: an approved / partly approved case whose item names a result licence
    type gets its licence in the decision's transaction, recorded on the case.

    A type missing from the catalogue or a holder without real-name identity cannot carry a
    licence: the decision still stands, the case records no licence, and the audit log says why
    (the department then issues through the API once the holder is identified).
    """
    if not event.issues_licence:
        return
    case = event.case
    licence_type = LicenceType.objects.filter(code=event.licence_type).first()
    department = case.department
    actor = LicenceActor(
        user=getattr(event.actor, "user", None),
        client=getattr(event.actor, "client", None),
        department=department,
    )
    try:
        if licence_type is None:
            raise DomainError(_("证照目录中没有该证照类型"), code="licence_type_unknown")
        holder = holder_of(
            licence_type=licence_type, user=case.applicant_user, enterprise=case.enterprise
        )
        reason = _("办件 %(number)s 准予许可") % {"number": case.number}
        face = _face_from_case(licence_type, holder, case)
        held = _held_by_issuer(licence_type, holder, department)
        with transaction.atomic():
            if held is not None:
                # 换领/延续/变更 of a licence this department issued: a new version of it.
                licence = _change(
                    held,
                    actor=actor,
                    kind=LicenceAction.RENEW,
                    face_data={**held.face_data, **face},
                    valid_until=None,
                    reason=reason,
                    case=case,
                )
            else:
                licence = _issue(
                    licence_type=licence_type,
                    issuer=department,
                    holder=holder,
                    face_data=face,
                    actor=actor,
                    number=case.number or "",
                    case=case,
                    reason=reason,
                )
    except DomainError as exc:
        logger.warning("licences.result_not_issued", extra={"case_id": case.pk, "code": exc.code})
        record_audit_event(
            actor=actor.user,
            action="licences.result_not_issued",
            obj=case,
            data={"type_code": event.licence_type, "code": exc.code},
        )
        return
    record_result_licence(
        case=case, identifier=licence.identifier, name=licence.name, valid_until=licence.valid_until
    )


# --- use: the resolver for apps.cases.materials ----------------------------------------------
