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

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.licences import rendering, sealing
from apps.licences.models import Licence, LicenceFile, SealKey, VerificationToken
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
    return sealing.attach(body, signature), key, signature["toSign"]["dataHash"]


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
        Licence.objects.select_for_update()
        .select_related("licence_type", "issuer")
        .filter(pk=licence_id)
        .first()
    )
    if licence is None:
        raise DomainError("电子证照不存在", code="not_found")
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
