"""Reads of the licences app, scoped to an actor (STYLE.md R1/R2), and the verification answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.identity.models import Enterprise
from apps.identity.pii import mask_id_number, mask_name
from apps.identity.selectors import active_authorisation, enterprise_capacity
from apps.licences.constants import LicenceStatus
from apps.licences.models import Licence, LicenceFile, LicenceUse, SealKey, VerificationToken
from apps.licences.sealing import detach, verify_signature

# --- the holder's side (wallet) -------------------------------------------------------------


def wallet_enterprises(user: Any) -> list[Enterprise]:
    """Enterprises whose wallet ``user`` may open: as legal representative or licence
    administrator (DOMAIN.md §4.3), or as an agent with a current all-business authorisation."""
    if not getattr(user, "is_authenticated", False):
        return []
    candidates = Enterprise.objects.filter(
        Q(legal_representative=user)
        | Q(roles__user=user, roles__revoked_at__isnull=True)
        | Q(authorisations__agent=user)
    ).distinct()
    return [e for e in candidates if can_open_enterprise_wallet(user, e)]


def can_open_enterprise_wallet(user: Any, enterprise: Enterprise) -> bool:
    if not enterprise.is_active or not getattr(user, "is_authenticated", False):
        return False
    if enterprise_capacity(user, enterprise) is not None:
        return True
    # An agent sees the wallet only with an all-business (全部事项) authorisation: an item-level
    # agent acts for single applications and takes licences through the resolver there.
    authorisation = active_authorisation(user, enterprise, None)
    return authorisation is not None and not authorisation.item_codes


def list_licences_for(
    user: Any, *, enterprise: Enterprise | None = None, include_history: bool = False
) -> QuerySet[Licence]:
    """The wallet: the user's own licences, or ``enterprise``'s when the user may open it."""
    if enterprise is not None:
        if not can_open_enterprise_wallet(user, enterprise):
            raise Http404
        qs = Licence.objects.filter(holder_enterprise=enterprise)
    elif getattr(user, "is_authenticated", False):
        qs = Licence.objects.filter(holder_user=user)
    else:
        return Licence.objects.none()
    if not include_history:
        qs = qs.exclude(status=LicenceStatus.SUPERSEDED)
    return qs.select_related("licence_type", "issuer").order_by("licence_type__name", "-version")


def get_licence_for(user: Any, licence_id: int) -> Licence:
    """A licence its holder (or a person who may open the holder enterprise's wallet) may see;
    ``Http404`` for anyone else, so existence does not leak."""
    licence = (
        Licence.objects.select_related("licence_type", "issuer", "holder_enterprise", "predecessor")
        .filter(pk=licence_id)
        .first()
    )
    if licence is None or not getattr(user, "is_authenticated", False):
        raise Http404
    if licence.holder_user_id is not None and licence.holder_user_id == user.pk:
        return licence
    if licence.holder_enterprise is not None and can_open_enterprise_wallet(
        user, licence.holder_enterprise
    ):
        return licence
    raise Http404


def get_licence_for_department(*, department: Any, identifier: str) -> Licence:
    """A licence the department issued, by identifier; ``Http404`` for any other."""
    licence = (
        Licence.objects.select_related("licence_type", "issuer", "predecessor")
        .filter(identifier=identifier, issuer=department)
        .first()
    )
    if licence is None:
        raise Http404
    return licence


def licence_versions(licence: Licence) -> list[Licence]:
    """All versions of a licence (same issuer, type and serial), newest first."""
    return list(
        Licence.objects.filter(
            issuer_code=licence.issuer_code,
            licence_type_id=licence.licence_type_id,
            serial=licence.serial,
        )
        .only("pk", "identifier", "version", "status", "issued_on", "status_changed_at")
        .order_by("-version")
    )


def list_uses_for(licence: Licence) -> QuerySet[LicenceUse]:
    return LicenceUse.objects.filter(licence=licence).select_related("department", "case")


# --- verification (验真) ----------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Verification:
    """The answer a verifier gets: valid or not, why, issuer and masked face data."""

    is_valid: bool
    reason: str  # code: valid / superseded / expired / cancelled / ... / not_found / token_expired
    message: str
    licence: Licence | None = None
    since: datetime | None = None
    superseded_by: str = ""
    masked_face: list[tuple[str, str]] = field(default_factory=list)
    # Set when the verified file is a 加注件: its purpose and its own validity.
    copy_purpose: str = ""
    copy_valid_until: date | None = None

    def as_json(self) -> dict[str, Any]:
        lic = self.licence
        data: dict[str, Any] = {
            "valid": self.is_valid,
            "reason": self.reason,
            "message": self.message,
        }
        if lic is not None:
            data.update(
                {
                    "name": lic.name,
                    "status": lic.status,
                    "status_label": lic.get_status_display(),
                    "since": self.since.isoformat() if self.since else None,
                    "superseded_by_version": self.superseded_by or None,
                    "issuer": {"name": lic.issuer.name, "code": lic.issuer_code},
                    "holder": lic.masked_holder_name,
                    "valid_from": lic.valid_from.isoformat(),
                    "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
                    "face": [{"label": k, "value": v} for k, v in self.masked_face],
                }
            )
        if self.copy_valid_until is not None:
            data["annotated_copy"] = {
                "purpose": self.copy_purpose,
                "valid_until": self.copy_valid_until.isoformat(),
            }
        return data


def _mask(value: str, how: str | None) -> str:
    if not how or not value:
        return value
    if how == "name":
        return mask_name(value)
    if how == "address":
        return value[:6] + "****" if len(value) > 6 else "****"
    if how == "id":
        return mask_id_number(value)
    return "*" * min(len(value), 8)


def masked_face(licence: Licence) -> list[tuple[str, str]]:
    rows = [(_("持证主体"), licence.masked_holder_name)]
    for item in licence.licence_type.face_fields:
        value = licence.face_data.get(item["key"])
        if value in (None, "") or item["key"] in ("XM", "MC"):
            continue
        rows.append((item["label"], _mask(str(value), item.get("mask"))))
    return rows


def verify_licence(licence: Licence, *, today: date | None = None) -> Verification:
    """Whether ``licence`` is valid for use now, and if not why (DOMAIN.md §3.7 point 3)."""
    today = today or timezone.localdate()
    face = masked_face(licence)
    if licence.status == LicenceStatus.VALID:
        if licence.valid_until is not None and licence.valid_until < today:
            return Verification(False, "expired", _("该证照已过有效期"), licence, None, "", face)
        return Verification(True, "valid", _("该证照真实有效"), licence, None, "", face)
    if licence.status == LicenceStatus.SUPERSEDED:
        successor = Licence.objects.filter(predecessor=licence).only("version").first()
        version = f"{successor.version:03d}" if successor else ""
        return Verification(
            False,
            "superseded",
            _("该证照已被第%(version)s版替代") % {"version": version},
            licence,
            licence.status_changed_at,
            version,
            face,
        )
    label = licence.get_status_display()
    when = timezone.localtime(licence.status_changed_at).date().isoformat()
    return Verification(
        False,
        licence.status,
        _("该证照%(status)s（%(date)s）") % {"status": label, "date": when},
        licence,
        licence.status_changed_at,
        "",
        face,
    )


def verify_token(token: str) -> Verification:
    """The answer for a QR token; expired and unknown tokens say so without naming a licence."""
    row = (
        VerificationToken.objects.select_related(
            "licence", "licence__licence_type", "licence__issuer"
        )
        .filter(token_hash=token_digest(token or ""))
        .first()
    )
    if row is None:
        return Verification(False, "not_found", _("核验码无效"))
    if row.expires_at <= timezone.now():
        return Verification(False, "token_expired", _("核验码已过期，请持证人重新出示"))
    return verify_licence(row.licence)


def wallet_licences_for(*, user: Any, enterprise: Any, licence_types: Any) -> list[Any]:
    """The applicant's valid licences of ``licence_types`` (the wallet seam of
    ``apps.cases.materials``): offered on the materials step as 免提交 choices."""
    from apps.cases.materials import LicenceReference

    qs = Licence.objects.valid().filter(licence_type__code__in=list(licence_types))
    if enterprise is not None:
        qs = qs.filter(holder_enterprise=enterprise)
    elif getattr(user, "pk", None) is not None:
        qs = qs.filter(holder_user=user)
    else:
        return []
    today = timezone.localdate()
    return [
        LicenceReference(identifier=i, licence_type=t, name=n, valid_until=u)
        for i, t, n, u in qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("pk")
        .values_list("identifier", "licence_type__code", "name", "valid_until")
    ]


# --- verification of an uploaded file ---------------------------------------------------------

FILE_REASONS = {
    "no_seal": gettext_lazy("文件没有电子签章，或不是本平台签发的电子证照文件"),
    "seal_invalid": gettext_lazy("电子印章无效"),
    "seal_expired": gettext_lazy("电子印章不在有效期内"),
    "cert_invalid": gettext_lazy("签章人证书无效"),
    "cert_expired": gettext_lazy("签章人证书不在有效期内"),
    "cert_not_in_seal": gettext_lazy("签章人证书与电子印章不符"),
    "hash_mismatch": gettext_lazy("文件内容已被篡改"),
    "signature_invalid": gettext_lazy("电子签章验证失败"),
    "seal_revoked": gettext_lazy("电子印章已被吊销"),
    "seal_wrong_issuer": gettext_lazy("电子印章不属于该证照的颁发机构"),
    "not_issued": gettext_lazy("未找到与该文件对应的电子证照"),
    "copy_expired": gettext_lazy("该加注件已过有效期"),
}


def verify_file(data: bytes, *, today: date | None = None) -> Verification:
    """Verification by upload: the seal (DOMAIN.md §3.5 checks), that the file is one this
    platform issued, the issuer's own seal, and the licence's current status and version."""
    signed, signature = detach(data)

    def revoked(es_id: str) -> bool:
        return SealKey.objects.filter(es_id=es_id, revoked_at__isnull=False).exists()

    check = verify_signature(signed, signature, today=today, is_revoked=revoked)
    if not check.ok:
        return Verification(False, check.reason, str(FILE_REASONS[check.reason]))
    row = (
        LicenceFile.objects.select_related(
            "licence", "licence__licence_type", "licence__issuer", "seal_key"
        )
        .filter(signed_digest=check.data_hash)
        .first()
    )
    if row is None:
        return _verify_copy(check, today=today)
    licence = row.licence
    if check.signer_code != licence.issuer_code or row.seal_key.es_id != check.es_id:
        message = str(FILE_REASONS["seal_wrong_issuer"])
        return Verification(False, "seal_wrong_issuer", message, licence)
    return verify_licence(licence, today=today)


def authorisations_for(user: Any, enterprise: Enterprise | None) -> list[Any]:
    """The use authorisations of a wallet (the person's own, or the enterprise's), newest
    first, with their department and licence."""
    from apps.licences.models import UseAuthorisation

    qs = UseAuthorisation.objects.select_related("department", "licence")
    qs = qs.filter(holder_enterprise=enterprise) if enterprise else qs.filter(holder_user=user)
    return list(qs.order_by("-created_at", "-pk")[:200])


def _verify_copy(check: Any, *, today: date | None) -> Verification:
    """An uploaded 加注件: its own validity first, then the licence's current status."""
    from apps.licences.models import AnnotatedCopy

    copy = (
        AnnotatedCopy.objects.select_related("licence", "licence__licence_type", "licence__issuer")
        .filter(signed_digest=check.data_hash)
        .first()
    )
    if copy is None:
        return Verification(False, "not_issued", str(FILE_REASONS["not_issued"]))
    licence = copy.licence
    if check.signer_code != licence.issuer_code:
        message = str(FILE_REASONS["seal_wrong_issuer"])
        return Verification(False, "seal_wrong_issuer", message, licence)
    if copy.valid_until < (today or timezone.localdate()):
        answer = Verification(False, "copy_expired", str(FILE_REASONS["copy_expired"]), licence)
    else:
        answer = verify_licence(licence, today=today)
    answer.copy_purpose, answer.copy_valid_until = copy.purpose, copy.valid_until
    if answer.is_valid:
        answer.message = _("该加注件真实有效（用途：%(purpose)s，有效期至%(date)s）") % {
            "purpose": copy.purpose,
            "date": copy.valid_until.isoformat(),
        }
    return answer


def copies_for_department(*, department: Any, identifier: str = "") -> QuerySet[Any]:
    """The 加注件 ``department`` obtained (through its own use records), without their bytes."""
    from apps.licences.models import AnnotatedCopy

    qs = (
        AnnotatedCopy.objects.select_related("licence", "licence__licence_type", "use")
        .defer("content")
        .filter(use__department=department)
    )
    if identifier:
        qs = qs.filter(licence__identifier=identifier)
    return qs


def get_copy_for_department(*, department: Any, copy_id: int, with_content: bool = False) -> Any:
    """One 加注件 of ``department``; ``Http404`` for another department's or none."""
    from apps.licences.models import AnnotatedCopy

    qs = AnnotatedCopy.objects.select_related("licence", "licence__licence_type", "use")
    if not with_content:
        qs = qs.defer("content")
    copy = qs.filter(pk=copy_id, use__department=department).first()
    if copy is None:
        raise Http404
    return copy
