"""The software seal provider: one SM2 key per issuing department, kept in ``SealKey`` with the
private key encrypted at rest (apps.identity.pii). For development, tests and the demo;
production configures ``LICENCE_SEAL_PROVIDER`` to an HSM or provincial seal service adapter
with the same two methods."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import Department
from apps.licences import sm2
from apps.licences.models import SealKey
from apps.licences.sealing import SealMaterial, build_certificate, build_seal

SEAL_PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<circle cx="50" cy="50" r="46" fill="none" stroke="#c00" stroke-width="4"/>'
    '<text x="50" y="58" text-anchor="middle" fill="#c00" font-size="26">&#9733;</text></svg>'
)


def _years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def create_seal_key(
    department: Department, *, valid_from: date | None = None, valid_until: date | None = None
) -> SealKey:
    """A new key, certificate and seal for ``department`` (runs in the caller's transaction)."""
    valid_from = valid_from or timezone.localdate()
    valid_until = valid_until or _years(valid_from, getattr(settings, "LICENCE_SEAL_YEARS", 5))
    keypair = sm2.generate_keypair()
    count = SealKey.objects.filter(department=department).count()
    es_id = f"{department.uscc}{count + 1:04d}"
    certificate = build_certificate(
        department=department,
        public_hex=keypair.public_hex,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    seal = build_seal(
        es_id=es_id,
        department=department,
        certificate=certificate,
        valid_from=valid_from,
        valid_until=valid_until,
        picture_svg=SEAL_PICTURE,
    )
    return SealKey.objects.create(
        department=department,
        es_id=es_id,
        public_key=keypair.public_hex,
        private_key=keypair.private_hex,
        certificate=certificate,
        seal=seal,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def current_seal_key(department: Department) -> SealKey | None:
    today = timezone.localdate()
    return (
        SealKey.objects.filter(
            department=department,
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today + timedelta(days=1),
        )
        .order_by("-valid_until", "-pk")
        .first()
    )


class SoftwareSealProvider:
    def material_for(self, department: Department) -> tuple[SealKey, SealMaterial]:
        key = current_seal_key(department)
        if key is None:
            with transaction.atomic():
                # NO KEY UPDATE serialises key creation per department without conflicting
                # with the KEY SHARE locks that rows referencing the department already
                # hold in this transaction (a plain FOR UPDATE deadlocked two workers).
                Department.objects.select_for_update(no_key=True).filter(pk=department.pk).first()
                key = current_seal_key(department) or create_seal_key(department)
        return key, SealMaterial(key.es_id, key.seal, key.certificate)

    def sign(self, key: SealKey, data: bytes) -> bytes:
        return sm2.sign(sm2.KeyPair(key.private_key, key.public_key), data)
