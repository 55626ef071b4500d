"""Status actions of DOMAIN.md §3.7 (注销, 撤销, 撤回, 吊销, 挂失/冻结, 解除) and the expiry."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.licences.constants import (
    DEFAULT_LEGAL_BASIS,
    MANUAL_ACTIONS,
    NEEDS_LEGAL_BASIS,
    TRANSITIONS,
    LicenceAction,
    LicenceStatus,
)
from apps.licences.models import (
    Licence,
)
from apps.licences.services.common import (
    LicenceActor,
    _audit,
    _history,
)
from apps.licences.services.issuance import _lock
from apps.licences.services.push import push_status_change


def _transition(
    licence: Licence,
    action: str,
    *,
    actor: LicenceActor,
    reason: str,
    legal_basis: str = "",
) -> Licence:
    sources, target = TRANSITIONS[action]
    if licence.status not in sources:
        raise DomainError(
            _("证照当前状态为“%(status)s”，不能%(action)s")
            % {"status": licence.get_status_display(), "action": LicenceAction(action).label},
            code="illegal_transition",
        )
    if target == LicenceStatus.VALID and licence.exclusive:
        clash = (
            Licence.objects.valid()
            .filter(
                licence_type_id=licence.licence_type_id,
                holder_code_type=licence.holder_code_type,
                holder_code_index=licence.holder_code_index,
            )
            .exclude(pk=licence.pk)
            .exists()
        )
        if clash:
            raise DomainError(
                _("持证主体已有另一份有效的同类证照，不能恢复"), code="licence_already_held"
            )
    from_status = licence.status
    licence.status = target
    licence.status_changed_at = timezone.now()
    licence.save(update_fields=["status", "status_changed_at", "updated_at"])
    change = _history(
        licence,
        action=action,
        from_status=from_status,
        actor=actor,
        reason=reason,
        legal_basis=legal_basis,
    )
    push_status_change(licence, change)
    _audit(actor, action, licence, from_status=from_status)
    return licence


@transaction.atomic(durable=True)
def change_licence_status(
    *, licence_id: int, actor: LicenceActor, action: str, reason: str, legal_basis: str = ""
) -> Licence:
    """注销 / 撤销 / 撤回 / 吊销 / 挂失冻结 / 解除: by the issuing department only, with a reason
    (and a legal basis for the four final ones; the usual article is the default)."""
    if action not in MANUAL_ACTIONS:
        raise DomainError(_("不支持的操作"), code="illegal_action")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写原因"), code="reason_required")
    if action in NEEDS_LEGAL_BASIS:
        legal_basis = (legal_basis or "").strip() or DEFAULT_LEGAL_BASIS[action]
    licence = _lock(licence_id)
    if actor.department is not None and actor.department.pk != licence.issuer_id:
        raise DomainError(_("只能处理本部门签发的证照"), code="not_issuer")
    return _transition(licence, action, actor=actor, reason=reason, legal_basis=legal_basis)


@transaction.atomic(durable=True)
def expire_licences(*, today: date | None = None, limit: int = 1000) -> int:
    """Turn valid licences whose term has ended into ``expired`` (beat task; idempotent)."""
    today = today or timezone.localdate()
    rows = list(
        Licence.objects.select_for_update(skip_locked=True)
        .filter(status=LicenceStatus.VALID, valid_until__lt=today)
        .order_by("pk")[:limit]
    )
    for licence in rows:
        _transition(
            licence, LicenceAction.EXPIRE, actor=LicenceActor.system(), reason=_("有效期届满")
        )
    return len(rows)


# --- the decision hook (apps.cases.hooks) -----------------------------------------------------
