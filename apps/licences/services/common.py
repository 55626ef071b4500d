"""Shared pieces of the licence services: the actor, the holder, face-data and validity checks,
the history row and the audit call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.models import Department
from apps.identity.models import ApiClient, Enterprise
from apps.identity.pii import blind_index
from apps.licences.constants import (
    HolderCodeType,
    HolderKind,
    ValidityRule,
)
from apps.licences.models import (
    Licence,
    LicenceStatusChange,
    LicenceType,
)

PURPOSE_MAX = 200


@dataclass(frozen=True)
class LicenceActor:
    """Who acts on a licence: a person (holder, clerk), a department's API client, or the system.
    ``department`` is the department the actor acts for (a clerk's or the client's)."""

    user: Any | None = None
    client: ApiClient | None = None
    department: Department | None = None

    @classmethod
    def system(cls) -> LicenceActor:
        return cls()

    @classmethod
    def of_user(cls, user: Any, department: Department | None = None) -> LicenceActor:
        return cls(user=user, department=department)

    @classmethod
    def of_client(cls, client: ApiClient) -> LicenceActor:
        return cls(client=client, department=client.department)

    @property
    def label(self) -> str:
        if self.client is not None:
            return f"{self.client.department.name}（{self.client.application.name}）"
        if self.user is not None:
            name = getattr(self.user, "display_name", "") or self.user.get_username()
            if self.department is not None:
                return f"{self.department.name}（{name}）"
            return str(name)
        return "系统"


def holder_code_index(code: str) -> str:
    return blind_index(code, purpose="licence_holder_code")


# --- validation helpers ------------------------------------------------------------------


def validate_face_data(licence_type: LicenceType, face_data: Mapping[str, Any]) -> dict[str, Any]:
    """Face data (照面信息) checked against the type's template; Chinese error naming the field."""
    if not isinstance(face_data, Mapping):
        raise DomainError(_("照面信息格式不正确"), code="face_data_invalid")
    data = {k: v for k, v in face_data.items() if v not in (None, "")}
    validator = Draft202012Validator(licence_type.face_schema(), format_checker=FormatChecker())
    labels = {f["key"]: f["label"] for f in licence_type.face_fields}
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        if error.validator == "required":
            missing = next(k for k in error.validator_value if k not in data)
            message = _("照面信息缺少“%(field)s”") % {"field": labels.get(missing, missing)}
        elif error.validator == "additionalProperties":
            extra = sorted(set(data) - set(labels))
            message = _("照面信息含有模板之外的项目：%(fields)s") % {"fields": join_list(extra)}
        else:
            key = str(error.path[0]) if error.path else ""
            message = _("照面信息“%(field)s”的值不正确") % {"field": labels.get(key, key)}
        raise DomainError(message, code="face_data_invalid")
    return data


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _validity(
    licence_type: LicenceType, valid_from: date, valid_until: date | None, *, explicit: bool
) -> date | None:
    if licence_type.validity_rule == ValidityRule.LONG_TERM:
        if valid_until is not None:
            raise DomainError(_("该类证照长期有效，不能填写截止日期"), code="validity_invalid")
        return None
    if valid_until is None and not explicit:
        years = licence_type.validity_years or 1
        valid_until = _add_years(valid_from, years) - timedelta(days=1)
    if valid_until is None:
        raise DomainError(_("该类证照须填写有效期截止日期"), code="validity_invalid")
    if valid_until < valid_from:
        raise DomainError(_("有效期截止日期不能早于起始日期"), code="validity_invalid")
    return valid_until


@dataclass(frozen=True)
class Holder:
    kind: str
    code_type: str
    code: str
    name: str
    user: Any | None = None
    enterprise: Enterprise | None = None


def holder_of(*, licence_type: LicenceType, user: Any = None, enterprise: Any = None) -> Holder:
    """The 持证主体 from the identity app's records, matching the type's holder kind."""
    if licence_type.holder_kind == HolderKind.PERSON:
        person = getattr(user, "person", None) if user is not None else None
        if person is None or not person.id_number:
            raise DomainError(
                _("持证人未完成实名认证，无法签发自然人证照"), code="holder_not_identified"
            )
        return Holder(
            HolderKind.PERSON, HolderCodeType.RESIDENT_ID, person.id_number, person.name, user=user
        )
    if enterprise is None:
        raise DomainError(_("该类证照的持证主体应为法人"), code="holder_kind_mismatch")
    return Holder(
        licence_type.holder_kind,
        HolderCodeType.USCC,
        enterprise.uscc,
        enterprise.name,
        enterprise=enterprise,
    )


def _audit(actor: LicenceActor, action: str, licence: Licence, **data: Any) -> None:
    record_audit_event(
        actor=actor.user,
        action=f"licences.{action}",
        obj=licence,
        data={
            "identifier": licence.identifier,
            "status": licence.status,
            "department_id": getattr(actor.department, "pk", None),
            "client_id": getattr(actor.client, "pk", None),
            **data,
        },
    )


def _history(
    licence: Licence,
    *,
    action: str,
    from_status: str,
    actor: LicenceActor,
    reason: str,
    legal_basis: str = "",
    related: Licence | None = None,
) -> LicenceStatusChange:
    change = LicenceStatusChange(
        licence=licence,
        action=action,
        from_status=from_status,
        to_status=licence.status,
        reason=reason[:500],
        legal_basis=legal_basis[:500],
        occurred_at=licence.status_changed_at,
        actor_user=actor.user,
        actor_department=actor.department,
        actor_label=actor.label[:200],
        related=related,
    )
    change.save()
    return change


def _check_issuer(licence_type: LicenceType, issuer: Department, actor: LicenceActor) -> None:
    if actor.department is not None and actor.department.pk != issuer.pk:
        raise DomainError(_("只能以本部门名义签发或变更证照"), code="not_issuer")
    if not licence_type.is_active:
        raise DomainError(_("该证照类型已停用"), code="licence_type_inactive")


# --- issue ---------------------------------------------------------------------------------
