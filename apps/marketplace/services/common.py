"""Helpers shared by the marketplace services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.marketplace.constants import AgencyServiceStatus, AgencyStatus
from apps.marketplace.models import Agency, AgencyService, IntermediaryService, Qualification


def setting(name: str, default: int) -> int:
    """Local rules (DOMAIN.md ○): configurable, with the documented default."""
    return int(getattr(settings, name, default))


def clean_requirements(raw: Iterable[dict]) -> list[dict]:
    """``[{"code", "name", "min_grade"}]`` with codes stripped; bad rows refused."""
    cleaned: list[dict] = []
    for row in raw:
        code = str(row.get("code", "")).strip()
        if not code:
            raise DomainError(_("资质要求缺少资质类别"), code="requirement_invalid")
        try:
            grade = int(row.get("min_grade", 0))
        except (TypeError, ValueError) as exc:
            raise DomainError(_("资质等级无效"), code="requirement_invalid") from exc
        if grade < 0 or grade > 3:
            raise DomainError(_("资质等级无效"), code="requirement_invalid")
        cleaned.append({"code": code, "name": str(row.get("name", code))[:100], "min_grade": grade})
    return cleaned


def holds_requirements(
    qualifications: Iterable[Qualification], required: dict[str, int], day: date
) -> list[str]:
    """Requirement codes not met by valid ``qualifications`` on ``day`` (empty = all met)."""
    held: dict[str, int] = {}
    for qualification in qualifications:
        if qualification.is_valid_on(day):
            held[qualification.code] = max(held.get(qualification.code, -1), qualification.grade)
    return [code for code, grade in required.items() if held.get(code, -1) < grade]


def eligible_agencies(service: IntermediaryService, day: date) -> QuerySet[Agency]:
    """Listed agencies whose service is active; qualification validity is checked per agency."""
    return Agency.objects.filter(
        status=AgencyStatus.LISTED,
        services__service=service,
        services__status=AgencyServiceStatus.ACTIVE,
    ).select_related("enterprise")


def eligibility_problem(agency: Agency, service: IntermediaryService, day: date) -> str:
    """Why ``agency`` may not take ``service`` on ``day`` ("" when it may)."""
    if agency.status != AgencyStatus.LISTED:
        return _("机构未入库或已暂停承接")
    offer = (
        AgencyService.objects.filter(agency=agency, service=service)
        .prefetch_related("qualifications")
        .first()
    )
    if offer is None or offer.status != AgencyServiceStatus.ACTIVE:
        return _("机构未登记或已暂停该项中介服务")
    missing = holds_requirements(offer.qualifications.all(), service.legal_requirements(), day)
    if missing:
        return _("机构资质不满足要求：%(codes)s") % {"codes": join_list(missing)}
    return ""
