"""签发, 变更 and 延续: new licence versions (the version chain of DOMAIN.md §3.2)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from functools import partial
from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.core.queue import enqueue
from apps.licences.constants import (
    LicenceAction,
    LicenceStatus,
)
from apps.licences.identifiers import build_identifier, new_serial, parse_identifier
from apps.licences.models import (
    Licence,
    LicenceType,
)
from apps.licences.services.common import (
    Holder,
    LicenceActor,
    _audit,
    _check_issuer,
    _history,
    _validity,
    holder_code_index,
    holder_of,
    validate_face_data,
)
from apps.licences.services.push import push_status_change

logger = logging.getLogger(__name__)


def _issue(
    *,
    licence_type: LicenceType,
    issuer: Department,
    holder: Holder,
    face_data: Mapping[str, Any],
    actor: LicenceActor,
    number: str = "",
    serial: str = "",
    version: int = 1,
    valid_from: date | None = None,
    valid_until: date | None = None,
    explicit_until: bool = False,
    case: Any = None,
    predecessor: Licence | None = None,
    action: str = LicenceAction.ISSUE,
    reason: str = "",
    render_file: bool = True,
) -> Licence:
    """Create one licence version (helper: runs in the caller's transaction)."""
    _check_issuer(licence_type, issuer, actor)
    face = validate_face_data(licence_type, face_data)
    today = timezone.localdate()
    valid_from = valid_from or today
    until = _validity(licence_type, valid_from, valid_until, explicit=explicit_until)
    serial = serial or new_serial()
    ident = build_identifier(
        type_code=licence_type.code, issuer_code=issuer.uscc, serial=serial, version=version
    )
    index = holder_code_index(holder.code)
    exclusive = not licence_type.allows_multiple
    if (
        exclusive
        and Licence.objects.valid()
        .filter(
            licence_type=licence_type,
            holder_code_type=holder.code_type,
            holder_code_index=index,
        )
        .exists()
    ):
        raise DomainError(
            _("持证主体已持有有效的%(name)s，请办理变更或延续") % {"name": licence_type.name},
            code="licence_already_held",
        )
    licence = Licence(
        licence_type=licence_type,
        identifier=str(ident),
        serial=serial,
        version=version,
        number=number or serial,
        name=licence_type.name,
        issuer=issuer,
        issuer_code=issuer.uscc,
        jurisdiction_code=issuer.region.code if issuer.region_id else "",
        holder_kind=holder.kind,
        holder_code_type=holder.code_type,
        holder_name=holder.name,
        holder_code=holder.code,
        holder_code_index=index,
        holder_user=holder.user,
        holder_enterprise=holder.enterprise,
        issued_on=today,
        valid_from=valid_from,
        valid_until=until,
        face_data=face,
        status=LicenceStatus.VALID,
        status_changed_at=timezone.now(),
        exclusive=exclusive,
        predecessor=predecessor,
        case=case,
    )
    try:
        with transaction.atomic():
            licence.save()
    except IntegrityError as exc:  # a concurrent issue won the race for the one valid slot
        raise DomainError(
            _("持证主体已持有有效的%(name)s，请办理变更或延续") % {"name": licence_type.name},
            code="licence_already_held",
        ) from exc
    _history(
        licence,
        action=action,
        from_status="",
        actor=actor,
        reason=reason or str(LicenceAction(action).label),
        related=predecessor,
    )
    _audit(actor, action, licence, type_code=licence_type.code, version=version)
    if render_file:
        transaction.on_commit(partial(_render_file_later, licence.pk))
    return licence


def _render_file_later(licence_id: int) -> None:
    """After commit: the sealed file is rendered by the worker; a broker outage only delays it
    to the first download (which renders on demand)."""
    try:
        enqueue("licences.render_file", licence_id)
    except (KombuOperationalError, RedisError, OSError):
        logger.warning("licences.render_not_enqueued", extra={"licence_id": licence_id})


@transaction.atomic(durable=True)
def issue_licence(
    *,
    type_code: str,
    issuer: Department,
    actor: LicenceActor,
    holder_user: Any = None,
    holder_enterprise: Any = None,
    face_data: Mapping[str, Any],
    number: str = "",
    serial: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    case: Any = None,
) -> Licence:
    """签发: a new licence (version 001) for a holder known to the identity app.

    Refuses (``DomainError``) an unknown or inactive type, another department's name, face data
    that does not fit the template, and a second valid licence of an exclusive type.
    """
    licence_type = _type(type_code)
    holder = holder_of(licence_type=licence_type, user=holder_user, enterprise=holder_enterprise)
    return _issue(
        licence_type=licence_type,
        issuer=issuer,
        holder=holder,
        face_data=face_data,
        actor=actor,
        number=number,
        serial=serial,
        valid_from=valid_from,
        valid_until=valid_until,
        explicit_until=valid_until is not None,
        case=case,
    )


def _type(type_code: str) -> LicenceType:
    try:
        return LicenceType.objects.get(code=type_code)
    except LicenceType.DoesNotExist as exc:
        raise DomainError(_("证照目录中没有该证照类型"), code="licence_type_unknown") from exc


def _lock(licence_id: int) -> Licence:
    try:
        return (
            Licence.objects.select_for_update(of=("self",))
            .select_related("licence_type", "issuer", "issuer__region")
            .get(pk=licence_id)
        )
    except Licence.DoesNotExist as exc:
        raise DomainError(_("电子证照不存在"), code="not_found") from exc


# --- change / renew ----------------------------------------------------------------------


@transaction.atomic(durable=True)
def change_licence(
    *,
    licence_id: int,
    actor: LicenceActor,
    kind: str = LicenceAction.CHANGE,
    face_data: Mapping[str, Any] | None = None,
    valid_until: date | None = None,
    reason: str,
    case: Any = None,
) -> Licence:
    """变更 / 延续: a new version with the same type, issuer and serial and the version raised;
    the old version turns ``superseded`` and is linked as the new one's predecessor."""
    return _change(
        _lock(licence_id),
        actor=actor,
        kind=kind,
        face_data=face_data,
        valid_until=valid_until,
        reason=reason,
        case=case,
    )


def _change(
    old: Licence,
    *,
    actor: LicenceActor,
    kind: str,
    face_data: Mapping[str, Any] | None,
    valid_until: date | None,
    reason: str,
    case: Any,
) -> Licence:
    """Helper of ``change_licence`` on a locked licence (also used by the decision hook)."""
    if kind not in (LicenceAction.CHANGE, LicenceAction.RENEW):
        raise DomainError(_("不支持的操作"), code="illegal_action")
    if not reason.strip():
        raise DomainError(_("请填写变更或延续的原因"), code="reason_required")
    if old.status != LicenceStatus.VALID:
        raise DomainError(_("只有有效的证照可以变更或延续"), code="illegal_transition")
    _check_issuer(old.licence_type, old.issuer, actor)
    next_ident = parse_identifier(old.identifier).next_version()
    holder = Holder(
        old.holder_kind,
        old.holder_code_type,
        old.holder_code,
        old.holder_name,
        user=old.holder_user,
        enterprise=old.holder_enterprise,
    )
    new_until = valid_until
    if kind == LicenceAction.CHANGE and valid_until is None:
        new_until = old.valid_until
    # Supersede first: the one-valid-licence constraint holds at every statement. The history
    # row of the old version is written once the new one exists, so it can name its successor.
    from_status = old.status
    old.status = LicenceStatus.SUPERSEDED
    old.status_changed_at = timezone.now()
    old.save(update_fields=["status", "status_changed_at", "updated_at"])
    new = _issue(
        licence_type=old.licence_type,
        issuer=old.issuer,
        holder=holder,
        face_data=old.face_data if face_data is None else face_data,
        actor=actor,
        number=old.number,
        serial=next_ident.serial,
        version=next_ident.version,
        valid_from=timezone.localdate() if kind == LicenceAction.RENEW else old.valid_from,
        valid_until=new_until,
        explicit_until=kind == LicenceAction.CHANGE and old.valid_until is not None,
        case=case,
        predecessor=old,
        action=kind,
        reason=reason,
    )
    change = _history(
        old,
        action=LicenceAction.SUPERSEDE,
        from_status=from_status,
        actor=actor,
        reason=reason,
        related=new,
    )
    push_status_change(old, change)
    _audit(actor, LicenceAction.SUPERSEDE, old, successor=new.identifier)
    return new


# --- status actions ------------------------------------------------------------------------
