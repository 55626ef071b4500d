"""The licence file (PDF of the face, sealed with the issuer's SM2 seal) and verification by an
uploaded file (DOMAIN.md §3.5)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.licences import pades, rendering, sealing
from apps.licences.models import (
    AnnotatedCopy,
    Licence,
    LicenceFile,
    LicenceUse,
    SealKey,
    VerificationToken,
)
from apps.licences.selectors import token_digest

# The QR printed on a file carries an opaque token like any other, living as long as a file
# may circulate; it answers for that one version (superseded, revoked … once they are).
FILE_TOKEN_TTL = timedelta(days=3650)


def _file_token(licence: Licence) -> str:
    token = secrets.token_urlsafe(24)
    VerificationToken.objects.create(
        token_hash=token_digest(token),
        licence=licence,
        purpose=VerificationToken.Purpose.FILE,
        expires_at=timezone.now() + FILE_TOKEN_TTL,
    )
    return token


def render_licence_file(licence: Licence) -> tuple[bytes, SealKey, str]:
    """Render and seal one version (runs in the caller's transaction)."""
    sealer = sealing.provider()
    key, material = sealer.material_for(licence.issuer)
    url = settings.SITE_URL.rstrip("/") + reverse("licences:verify")
    body = rendering.render_pdf(
        title=licence.name,
        rows=[("持证主体", licence.holder_name), *rendering.face_rows(licence)],
        identifier=licence.identifier,
        issuer=licence.issuer.name,
        issued_on=licence.issued_on.isoformat(),
        qr_url=f"{url}?token={_file_token(licence)}",
    )
    signature = sealing.sign_document(
        body, material=material, key=key, sealer=sealer, property_info=licence.identifier
    )
    content = _pades(sealing.attach(body, signature), key, "电子证照签章")
    return content, key, signature["toSign"]["dataHash"]


def _pades(content: bytes, key: SealKey, reason: str) -> bytes:
    """The PAdES signature ordinary PDF readers show, over the SM2-sealed file (unless
    ``LICENCE_PADES`` is off; see ``apps.licences.pades``)."""
    if not pades.available():
        return content
    return pades.sign(content, seal_key=key, reason=reason)


def ensure_licence_file(*, licence_id: int) -> LicenceFile:
    """The sealed file of a licence version, rendered on first need (the issuance task, or the
    first download). Idempotent: a file, once sealed, is never re-rendered."""
    existing = LicenceFile.objects.filter(licence_id=licence_id).first()
    if existing is not None:
        return existing
    return _create_licence_file(licence_id)


@transaction.atomic
def _create_licence_file(licence_id: int) -> LicenceFile:
    licence = (
        Licence.objects.select_for_update(of=("self",))
        .select_related("licence_type", "issuer")
        .filter(pk=licence_id)
        .first()
    )
    if licence is None:
        raise DomainError(_("电子证照不存在"), code="not_found")
    existing = LicenceFile.objects.filter(licence_id=licence_id).first()
    if existing is not None:
        return existing
    content, key, data_hash = render_licence_file(licence)
    row = LicenceFile.objects.create(
        licence=licence,
        kind="pdf",
        content=content,
        size=len(content),
        signed_digest=data_hash,
        seal_key=key,
        signed_at=timezone.now(),
    )
    record_audit_event(
        actor=None,
        action="licences.file_sealed",
        obj=licence,
        data={"identifier": licence.identifier, "es_id": key.es_id, "size": len(content)},
    )
    return row


@transaction.atomic(durable=True)
def revoke_seal_key(*, seal_key_id: int, user: Any, reason: str) -> SealKey:
    """Revoke a seal (key compromised, department merged): files it sealed stop verifying."""
    key = SealKey.objects.select_for_update().get(pk=seal_key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        record_audit_event(
            actor=user, action="licences.seal_revoked", obj=key, data={"reason": reason[:200]}
        )
    return key


ANNOTATED_COPY_DAYS = 30


def issue_annotated_copy(
    *,
    identifier: str,
    actor: Any,
    purpose: str,
    case_id: int | None = None,
    valid_days: int = ANNOTATED_COPY_DAYS,
) -> AnnotatedCopy:
    """加注件: a department with a basis (a case of the holder, or the holder's authorisation)
    gets a sealed copy for one use, watermarked with purpose, reader and date and valid for
    ``valid_days``. The read is a use record the holder sees; without a basis it is refused
    and audited exactly like any read (``read_licence_for_use``)."""
    from apps.licences.services.use import read_licence_for_use

    if not 1 <= valid_days <= 90:
        raise DomainError(_("加注件有效期应为1至90天"), code="validity_invalid")
    licence = read_licence_for_use(
        identifier=identifier, actor=actor, purpose=purpose, case_id=case_id
    )
    if licence.status != "valid":
        raise DomainError(_("证照当前无效，不能出具加注件"), code="licence_not_valid")
    with transaction.atomic(durable=True):
        use = (
            LicenceUse.objects.filter(licence=licence, department=actor.department, is_allowed=True)
            .order_by("-pk")
            .first()
        )
        today = timezone.localdate()
        until = today + timedelta(days=valid_days)
        stamp = f"加注件 · {purpose[:40]} · {actor.label[:30]} · {today.isoformat()}"
        sealer = sealing.provider()
        key, material = sealer.material_for(licence.issuer)
        body = rendering.render_pdf(
            title=f"{licence.name}（加注件）",
            rows=[("持证主体", licence.holder_name), *rendering.face_rows(licence)],
            identifier=licence.identifier,
            issuer=licence.issuer.name,
            issued_on=licence.issued_on.isoformat(),
            qr_url=settings.SITE_URL.rstrip("/") + reverse("licences:verify"),
            footer=f"用途：{purpose[:60]}；使用单位：{actor.label[:40]}；有效期至 {until}",
            watermark=stamp,
        )
        signature = sealing.sign_document(
            body,
            material=material,
            key=key,
            sealer=sealer,
            property_info=f"{licence.identifier}#copy",
        )
        copy = AnnotatedCopy.objects.create(
            licence=licence,
            use=use,
            purpose=purpose[:200],
            valid_until=until,
            signed_digest=signature["toSign"]["dataHash"],
            content=_pades(sealing.attach(body, signature), key, "加注件签章"),
        )
        record_audit_event(
            actor=actor.user,
            action="licences.annotated_copy",
            obj=licence,
            data={"copy_id": copy.pk, "department_id": actor.department.pk, "until": str(until)},
        )
    return copy
