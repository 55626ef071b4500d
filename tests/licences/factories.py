"""Licences for tests, made through the services (STYLE.md Q3)."""

from __future__ import annotations

from typing import Any

from apps.catalog.licence_types import licence_type_code
from apps.licences.models import LicenceType
from apps.licences.services import LicenceActor, issue_licence
from tests.identity.factories import EnterpriseFactory, verified_user

DRIVING = "机动车驾驶证"
BUSINESS = "营业执照"


def licence_type(name: str = DRIVING) -> LicenceType:
    return LicenceType.objects.get(code=licence_type_code(name))


def person_licence(department: Any, *, holder: Any = None, name: str = DRIVING, **kwargs: Any):
    holder = holder or verified_user()
    face = kwargs.pop("face_data", None) or {"XM": holder.person.name, "ZJCX": "C1"}
    return issue_licence(
        type_code=licence_type_code(name),
        issuer=department,
        actor=LicenceActor.system(),
        holder_user=holder,
        face_data=face,
        **kwargs,
    )


def enterprise_licence(department: Any, *, enterprise: Any = None, name: str = BUSINESS, **kw: Any):
    enterprise = enterprise or EnterpriseFactory()
    face = kw.pop("face_data", None) or {"MC": enterprise.name, "LX": "有限责任公司"}
    return issue_licence(
        type_code=licence_type_code(name),
        issuer=department,
        actor=LicenceActor.system(),
        holder_enterprise=enterprise,
        face_data=face,
        **kw,
    )
