"""Bulk import of existing licence stock (存量证照): every row validated by the real issuance
service, each refused row reported with its reason, and nothing written unless every row is
good (one transaction, rolled back on any refusal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.cn import ric, uscc

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.models import Department
from apps.identity.models import Enterprise, Person
from apps.identity.pii import id_number_index
from apps.licences.constants import HolderCodeType, HolderKind
from apps.licences.models import LicenceType
from apps.licences.services.common import Holder, LicenceActor
from apps.licences.services.issuance import _issue

REQUIRED = ("type_code", "issuer_code", "holder_name", "holder_code")


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    @property
    def ok(self) -> bool:
        return not self.refused


class _Rollback(Exception):
    pass


def _date(value: Any, label: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DomainError(
            _("%(field)s不是有效日期（应为 YYYY-MM-DD）") % {"field": label}, code="date_invalid"
        ) from exc


def _holder(licence_type: LicenceType, row: Mapping[str, Any]) -> Holder:
    code = str(row["holder_code"]).strip().upper()
    name = str(row["holder_name"]).strip()
    if licence_type.holder_kind == HolderKind.PERSON:
        if not ric.is_valid(code):
            raise DomainError(_("持证主体代码不是有效的居民身份证号码"), code="holder_code_invalid")
        person = (
            Person.objects.filter(id_number_index=id_number_index(code))
            .select_related("user")
            .first()
        )
        user = person.user if person is not None else None
        return Holder(HolderKind.PERSON, HolderCodeType.RESIDENT_ID, code, name, user=user)
    if not uscc.is_valid(code):
        raise DomainError(_("持证主体代码不是有效的统一社会信用代码"), code="holder_code_invalid")
    enterprise = Enterprise.objects.filter(uscc=code).first()
    return Holder(licence_type.holder_kind, HolderCodeType.USCC, code, name, enterprise=enterprise)


def _import_row(row: Mapping[str, Any], types: dict[str, LicenceType], issuers: dict) -> None:
    missing = [key for key in REQUIRED if not str(row.get(key) or "").strip()]
    if missing:
        raise DomainError(_("缺少必填项：%(fields)s") % {"fields": join_list(missing)})
    licence_type = types.get(str(row["type_code"]).strip())
    if licence_type is None:
        raise DomainError(_("证照目录中没有该证照类型"), code="licence_type_unknown")
    issuer = issuers.get(str(row["issuer_code"]).strip())
    if issuer is None:
        raise DomainError(_("颁发机构代码不是本平台的部门"), code="issuer_unknown")
    face = row.get("face") or {}
    if not isinstance(face, Mapping):
        raise DomainError(_("照面信息格式不正确"), code="face_data_invalid")
    valid_until = _date(row.get("valid_until"), _("有效期截止日期"))
    _issue(
        licence_type=licence_type,
        issuer=issuer,
        holder=_holder(licence_type, row),
        face_data=face,
        actor=LicenceActor(department=issuer),
        number=str(row.get("number") or "").strip(),
        serial=str(row.get("serial") or "").strip().upper(),
        valid_from=_date(row.get("valid_from"), _("有效期起始日期")),
        valid_until=valid_until,
        explicit_until=valid_until is not None,
        reason=_("存量证照导入"),
        render_file=False,  # stock files are rendered on first download, not all at once
    )


def import_licences(rows: Iterable[Mapping[str, Any]], *, dry_run: bool = False) -> ImportReport:
    """Import ``rows`` (dicts: type_code, issuer_code, holder_name, holder_code, number, serial,
    valid_from, valid_until, face). All or nothing; ``dry_run`` validates and rolls back."""
    rows = list(rows)
    report = ImportReport(total=len(rows))
    types = {t.code: t for t in LicenceType.objects.filter(is_active=True)}
    issuers = {d.uscc: d for d in Department.objects.all()}
    try:
        with transaction.atomic(durable=True):
            for number, row in enumerate(rows, start=1):
                try:
                    with transaction.atomic():
                        _import_row(row, types, issuers)
                except DomainError as exc:
                    report.refused.append((number, exc.message))
            report.imported = 0 if report.refused else len(rows)
            if report.refused or dry_run:
                raise _Rollback
            record_audit_event(
                actor=None, action="licences.bulk_imported", data={"rows": len(rows)}
            )
    except _Rollback:
        pass
    return report
