"""Identity demo data for ``manage.py loaddemo`` (ARCHITECTURE.md contracts).

- the shared base registries: a synthetic 人口库 and 法人库 whose numbers pass their check
  digits (GB 11643, GB 32100 and GB 11714) and use real Jiangxi region codes (GB/T 2260);
  the people and enterprises are fictitious;
- demo accounts ``demo-citizen`` (L2, and an all-business agent of the demo enterprise),
  ``demo-enterprise`` (L2, legal representative of the demo enterprise), ``demo-clerk`` (L4,
  window clerk of the demo department at window 01 of the Nanchang hall) and
  ``demo-dept-admin`` (L4, department administrator), password ``govportal-demo``;
- OAuth2 clients ``demo-oidc-client`` (SSO, authorization code + PKCE) and ``demo-dept-api``
  (client credentials), secret ``govportal-demo-secret``, bound to the demo department.

Idempotent: rows are keyed by natural keys (ID-number index, credit code, username, client id)
and a second run writes nothing. Accounts go through the identity services so their level
history and audit events are the real ones.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from stdnum.cn import ric, uscc

from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import Application

from apps.audit.services import record_audit_event
from apps.core.demo import DemoDataError
from apps.core.models import Department, ServiceHall
from apps.identity import services
from apps.identity.constants import (
    ApiScope,
    AssuranceLevel,
    AssuranceMethod,
    AuthorisationScope,
    EnterpriseStatus,
    StaffRole,
)
from apps.identity.models import (
    AgentAuthorisation,
    ApiClient,
    LegalPersonRecord,
    Person,
    PopulationRecord,
    RelyingParty,
    StaffMembership,
    User,
)
from apps.identity.pii import id_number_index

DEMO_PASSWORD = "govportal-demo"  # noqa: S105 - the published demo password (README)
DEMO_CLIENT_SECRET = "govportal-demo-secret"  # noqa: S105 - published demo client secret
DEMO_OIDC_CLIENT_ID = "demo-oidc-client"
DEMO_OIDC_REDIRECT_URI = "http://127.0.0.1:8765/callback"
DEMO_API_CLIENT_ID = "demo-dept-api"
# 南昌市市场监督管理局, stationed at window 01 of 南昌市政务服务中心 (apps/core/data/demo_org.json).
DEMO_DEPARTMENT_USCC = "11360100D00000152J"
DEMO_HALL_CODE = "360100-ZWFW-01"
DEMO_WINDOW_NUMBER = "01"


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


def make_id_number(region: str, birth: str, sequence: int) -> str:
    """A GB 11643 number: 6-digit region, YYYYMMDD, 3-digit sequence, MOD 11-2 check."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check


def gb11714_check(body: str) -> str:
    """GB 11714 organisation-code check character over 8 characters (digits and A–Z)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_enterprise_uscc(region: str, serial: int) -> str:
    """A company 统一社会信用代码 (工商 9 + 企业 1) with a synthetic ``MA`` organisation code."""
    org_body = f"MA{serial:06d}"
    body = f"91{region}{org_body}{gb11714_check(org_body)}"
    return body + uscc.calc_check_digit(body)


@dataclass(frozen=True)
class DemoPerson:
    name: str
    region: str
    birth: str
    sequence: int  # odd: male, even: female (GB 11643)

    @property
    def id_number(self) -> str:
        return make_id_number(self.region, self.birth, self.sequence)

    @property
    def gender(self) -> str:
        return "1" if self.sequence % 2 else "2"


# Fictitious residents. The first four are the demo accounts' owners.
POPULATION: tuple[DemoPerson, ...] = (
    DemoPerson("赵晓明", "360102", "19880512", 13),  # demo-citizen
    DemoPerson("陈静", "360113", "19800321", 24),  # demo-enterprise (legal representative)
    DemoPerson("刘建华", "360103", "19850917", 31),  # demo-clerk
    DemoPerson("王芳", "360111", "19790203", 42),  # demo-dept-admin
    DemoPerson("李国庆", "360121", "19691001", 55),
    DemoPerson("张丽娟", "360402", "19920614", 66),
    DemoPerson("孙志强", "360502", "19751130", 77),
    DemoPerson("周婷", "360104", "20010808", 88),
    DemoPerson("吴永刚", "360123", "19580426", 99),
    DemoPerson("郑秀英", "360124", "19470119", 102),
    DemoPerson("欧阳海涛", "360202", "19900225", 113),
    DemoPerson("黄晓燕", "360302", "19961207", 124),
)


@dataclass(frozen=True)
class DemoEnterprise:
    name: str
    region: str
    serial: int
    legal_rep: DemoPerson
    entity_type: str
    registered_on: datetime.date
    address: str
    status: str = EnterpriseStatus.ACTIVE

    @property
    def uscc(self) -> str:
        return make_enterprise_uscc(self.region, self.serial)


LEGAL_PERSONS: tuple[DemoEnterprise, ...] = (
    DemoEnterprise(
        "江西赣鄱示范科技有限公司",
        "360113",
        101,
        POPULATION[1],
        "有限责任公司",
        datetime.date(2016, 5, 18),
        "江西省南昌市红谷滩区示范大道1号（演示地址）",
    ),
    DemoEnterprise(
        "南昌洪城示范餐饮有限公司",
        "360102",
        102,
        POPULATION[4],
        "有限责任公司",
        datetime.date(2019, 9, 2),
        "江西省南昌市东湖区示范路8号（演示地址）",
    ),
    DemoEnterprise(
        "九江庐峰示范物流有限公司",
        "360402",
        103,
        POPULATION[6],
        "有限责任公司",
        datetime.date(2012, 3, 27),
        "江西省九江市濂溪区示范港区3号（演示地址）",
    ),
    DemoEnterprise(
        "新余示范光伏材料有限公司",
        "360502",
        104,
        POPULATION[6],
        "有限责任公司",
        datetime.date(2008, 11, 11),
        "江西省新余市渝水区示范工业园（演示地址）",
        status=EnterpriseStatus.CANCELLED,
    ),
)

DEMO_ACCOUNTS = {
    "demo-citizen": (POPULATION[0], "13800000001"),
    "demo-enterprise": (POPULATION[1], "13800000002"),
    "demo-clerk": (POPULATION[2], "13800000003"),
    "demo-dept-admin": (POPULATION[3], "13800000004"),
}


@transaction.atomic(durable=True)
def load_registries() -> dict[str, int]:
    """Upsert the synthetic population and legal-person registries. Idempotent."""
    by_index = {
        r.id_number_index: r
        for r in PopulationRecord.objects.filter(
            id_number_index__in=[id_number_index(p.id_number) for p in POPULATION]
        )
    }
    people_created = 0
    for person in POPULATION:
        if id_number_index(person.id_number) in by_index:
            continue
        record = PopulationRecord(
            name=person.name, gender=person.gender, household_region=person.region
        )
        record.set_id_number(person.id_number)
        record.full_clean()
        record.save()
        people_created += 1
    existing = LegalPersonRecord.objects.in_bulk([e.uscc for e in LEGAL_PERSONS], field_name="uscc")
    enterprises_created = 0
    for enterprise in LEGAL_PERSONS:
        if enterprise.uscc in existing:
            continue
        record = LegalPersonRecord(
            uscc=enterprise.uscc,
            name=enterprise.name,
            entity_type=enterprise.entity_type,
            status=enterprise.status,
            legal_rep_name=enterprise.legal_rep.name,
            registered_on=enterprise.registered_on,
            address=enterprise.address,
        )
        record.set_legal_rep_id_number(enterprise.legal_rep.id_number)
        record.full_clean()
        record.save()
        enterprises_created += 1
    if people_created or enterprises_created:
        record_audit_event(
            actor=None,
            action="identity.registries_loaded",
            object_type="identity.populationrecord",
            data={"population": people_created, "legal_persons": enterprises_created},
        )
    return {
        "population_records_created": people_created,
        "legal_person_records_created": enterprises_created,
    }


def _ensure_account(username: str) -> tuple[User, bool]:
    owner, phone = DEMO_ACCOUNTS[username]
    user = User.objects.filter(username=username).first()
    created = False
    if user is None:
        user = services.create_person_account(
            username=username, password=DEMO_PASSWORD, phone=phone
        )
        created = True
    elif not check_password(DEMO_PASSWORD, user.password):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if user.assurance_level < AssuranceLevel.L2:
        services.verify_real_name(user=user, name=owner.name, id_number=owner.id_number)
        user = User.objects.get(pk=user.pk)  # drop the cached L1 profile
    return user, created


def _ensure_staff(user: User, *, role: str, department: Department, hall: ServiceHall) -> bool:
    if user.assurance_level < AssuranceLevel.L4:
        # DOMAIN.md §4.3: staff need L3+; the demo staff were checked in person at the window.
        services.raise_assurance_level(
            user=user, to_level=AssuranceLevel.L4, method=AssuranceMethod.WINDOW
        )
        user.person.refresh_from_db()
    window = hall.windows.filter(number=DEMO_WINDOW_NUMBER).first() if role == "clerk" else None
    changed = False
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        changed = True
    _, created = StaffMembership.objects.get_or_create(
        user=user,
        department=department,
        role=role,
        defaults={"hall": hall, "window": window, "is_active": True},
    )
    return changed or created


def _ensure_application(
    *, client_id: str, grant_type: str, redirect_uris: str = ""
) -> tuple[Application, bool]:
    app = Application.objects.filter(client_id=client_id).first()
    if app is None:
        app = Application(client_id=client_id)
    values = {
        "name": client_id,
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": grant_type,
        "redirect_uris": redirect_uris,
        "algorithm": Application.RS256_ALGORITHM
        if grant_type == Application.GRANT_AUTHORIZATION_CODE
        else Application.NO_ALGORITHM,
        "skip_authorization": False,
    }
    changed = app.pk is None
    for field, value in values.items():
        if getattr(app, field) != value:
            setattr(app, field, value)
            changed = True
    if app.pk is None or not check_password(DEMO_CLIENT_SECRET, app.client_secret):
        app.client_secret = DEMO_CLIENT_SECRET
        app.hash_client_secret = True
        changed = True
    if changed:
        app.save()
    return app, changed


@transaction.atomic(durable=True)
def load_clients(*, department: Department) -> dict[str, int]:
    oidc_app, oidc_changed = _ensure_application(
        client_id=DEMO_OIDC_CLIENT_ID,
        grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=DEMO_OIDC_REDIRECT_URI,
    )
    _, rp_created = RelyingParty.objects.update_or_create(
        application=oidc_app,
        defaults={"department": department, "allowed_scopes": "openid profile"},
    )
    api_app, api_changed = _ensure_application(
        client_id=DEMO_API_CLIENT_ID, grant_type=Application.GRANT_CLIENT_CREDENTIALS
    )
    scopes = " ".join(ApiScope.values)
    api_client = ApiClient.objects.filter(application=api_app).first()
    api_client_changed = api_client is None or (
        api_client.department_id,
        api_client.allowed_scopes,
    ) != (department.pk, scopes)
    if api_client_changed:
        ApiClient.objects.update_or_create(
            application=api_app, defaults={"department": department, "allowed_scopes": scopes}
        )
    changed = oidc_changed or rp_created or api_changed or api_client_changed
    if changed:
        record_audit_event(
            actor=None,
            action="identity.demo_clients_loaded",
            object_type="oauth2_provider.application",
            data={"clients": [DEMO_OIDC_CLIENT_ID, DEMO_API_CLIENT_ID]},
        )
    return {"clients_changed": int(changed)}


def load_identity_demo(*, stdout: Writer) -> dict[str, int]:
    """Registries, demo accounts, the demo enterprise and its agent, demo clients."""
    counts = load_registries()
    department = Department.objects.filter(uscc=DEMO_DEPARTMENT_USCC).first()
    hall = ServiceHall.objects.filter(code=DEMO_HALL_CODE).first()
    if department is None or hall is None:
        raise DemoDataError("the core demo data (department and hall) must be loaded first")

    accounts_created = 0
    users: dict[str, User] = {}
    for username in DEMO_ACCOUNTS:
        users[username], created = _ensure_account(username)
        accounts_created += int(created)
    staff_changed = _ensure_staff(
        users["demo-clerk"], role=StaffRole.CLERK, department=department, hall=hall
    )
    staff_changed |= _ensure_staff(
        users["demo-dept-admin"], role=StaffRole.DEPT_ADMIN, department=department, hall=hall
    )

    legal_rep = users["demo-enterprise"]
    enterprise_uscc = LEGAL_PERSONS[0].uscc
    enterprise = legal_rep.represented_enterprises.filter(uscc=enterprise_uscc).first()
    if enterprise is None:
        enterprise = services.bind_enterprise(user=legal_rep, uscc=enterprise_uscc)
    granted = 0
    citizen = users["demo-citizen"]
    if not AgentAuthorisation.objects.active().filter(agent=citizen, enterprise=enterprise):
        services.grant_agent_authorisation(
            actor=legal_rep, enterprise=enterprise, agent=citizen, scope=AuthorisationScope.ALL
        )
        granted = 1
    client_counts = load_clients(department=department)
    stdout.write(
        f"  人口库: 新增 {counts['population_records_created']} 条；"
        f"法人库: 新增 {counts['legal_person_records_created']} 条；"
        f"演示账号: 新增 {accounts_created} 个（密码 {DEMO_PASSWORD}）\n"
    )
    return {
        **counts,
        "accounts_created": accounts_created,
        "persons": Person.objects.filter(user__username__in=list(DEMO_ACCOUNTS)).count(),
        "staff_changed": int(staff_changed),
        "authorisations_granted": granted,
        **client_counts,
    }
