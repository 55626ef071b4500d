"""Licences demo data for ``manage.py loaddemo`` (issue 11: demo, ARCHITECTURE.md contracts).

Issues, through the services, 居民身份证, 居民户口簿 and 机动车驾驶证 to ``demo-citizen`` (by the
Nanchang public security bureau) and 营业执照 and 食品经营许可证 to the demo enterprise (by the
Nanchang market regulation bureau, the demo department). Runs before the cases demo so its
applications take these licences from the wallet (免提交). Idempotent: a holder that already
holds a valid licence of the type gets nothing new.

The national e-licence sharing platform is a demo department (``NATIONAL_PLATFORM_USCC``)
subscribed to the status changes of every type: revocations, suspensions, expiries and
supersessions reach it through the handoff outbox (its pull endpoint and client
``demo-national-api`` come from the handoffs demo; in the tests the department simulator plays
it with ``--national-licences``).
"""

from __future__ import annotations

from typing import Any

from apps.catalog.licence_types import licence_type_code
from apps.core.demo import DemoDataError, Writer
from apps.core.models import Department
from apps.identity.demo import DEMO_DEPARTMENT_USCC, LEGAL_PERSONS
from apps.identity.models import Enterprise, User
from apps.licences.models import Licence, StatusSubscription
from apps.licences.sealing import provider
from apps.licences.services import (
    LicenceActor,
    holder_code_index,
    issue_licence,
    subscribe_status_changes,
    sync_licence_catalogue,
)

PSB_USCC = "11360100D00000144P"  # 南昌市公安局 (core demo data)
NATIONAL_PLATFORM_USCC = "11360000D0000900X7"  # 电子证照共享服务系统 (core demo data)

ADDRESS = "江西省南昌市东湖区八一大道1号"
PERSON_LICENCES = [
    (
        "居民身份证",
        PSB_USCC,
        {"XB": "男", "MZ": "汉", "CSRQ": "1988-05-12", "ZZ": ADDRESS},
    ),
    (
        "居民户口簿",
        PSB_USCC,
        {"HH": "360102001234", "HZXM": "赵晓明", "YHZGX": "户主", "ZZ": ADDRESS},
    ),
    ("机动车驾驶证", PSB_USCC, {"ZJCX": "C1", "CCLZRQ": "2010-07-01"}),
]
ENTERPRISE_LICENCES = [
    (
        "营业执照",
        DEMO_DEPARTMENT_USCC,
        {"LX": "有限责任公司", "ZCZB": "500万元", "JYFW": "餐饮服务；食品销售"},
    ),
    (
        "食品经营许可证",
        DEMO_DEPARTMENT_USCC,
        {
            "JYCS": "江西省南昌市红谷滩区赣江中大道1号",
            "ZTYT": "餐饮服务经营者",
            "JYXM": "热食类食品制售",
        },
    ),
]


def _held(type_code: str, code: str) -> bool:
    return (
        Licence.objects.valid()
        .filter(licence_type__code=type_code, holder_code_index=holder_code_index(code))
        .exists()
    )


def load_licences_demo(*, stdout: Writer) -> dict[str, int]:
    types_added = sync_licence_catalogue()
    citizen = User.objects.filter(username="demo-citizen").select_related("person").first()
    enterprise = Enterprise.objects.filter(uscc=LEGAL_PERSONS[0].uscc).first()
    departments = Department.objects.in_bulk(
        [PSB_USCC, DEMO_DEPARTMENT_USCC, NATIONAL_PLATFORM_USCC], field_name="uscc"
    )
    if citizen is None or enterprise is None or len(departments) < 3:
        raise DemoDataError("the core and identity demo data must be loaded first")
    # A seal key per issuing department (software provider; idempotent: the current key stays).
    sealer = provider()
    for uscc in (PSB_USCC, DEMO_DEPARTMENT_USCC):
        sealer.material_for(departments[uscc])
    platform = departments[NATIONAL_PLATFORM_USCC]
    if not StatusSubscription.objects.filter(department=platform, is_active=True).exists():
        subscribe_status_changes(department=platform, licence_types=[])
    issued = 0
    plans: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = []
    for name, issuer, face in PERSON_LICENCES:
        holder = {"holder_user": citizen}
        plans.append(
            (name, issuer, {"XM": citizen.person.name, **face}, holder, citizen.person.id_number)
        )
    for name, issuer, face in ENTERPRISE_LICENCES:
        holder = {"holder_enterprise": enterprise}
        base = {"MC": enterprise.name, "FDDBR": enterprise.legal_rep_name}
        plans.append((name, issuer, {**base, **face}, holder, enterprise.uscc))
    for name, issuer, face, holder, code in plans:
        type_code = licence_type_code(name)
        if _held(type_code, code):
            continue
        department = departments[issuer]
        issue_licence(
            type_code=type_code,
            issuer=department,
            actor=LicenceActor(department=department),
            face_data=face,
            **holder,
        )
        issued += 1
    stdout.write(
        f"  证照目录: 新增 {types_added} 类；电子证照: 新签发 {issued} 本；"
        f"{platform.name} 订阅证照状态变更\n"
    )
    return {"licence_types_added": types_added, "licences_issued": issued}
