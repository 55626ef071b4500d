"""中介超市 demo data (issue 14, Deliver 10): the service list, 30 agencies with qualifications
(some expiring, one expired), projects in every state, one completed random draw with its
published inputs, and one expelled agency.

Projects go through the services at replayed moments (``timezone.now`` is patched, as in the
reviews demo), so the draws, audit trail and notices are what real use would produce.
Idempotent: nothing is added once the demo service list exists.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Protocol
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.core.demo import DemoDataError
from apps.core.models import Department
from apps.identity.constants import AssuranceLevel
from apps.identity.demo import (
    DEMO_DEPARTMENT_USCC,
    DEMO_PASSWORD,
    make_enterprise_uscc,
    make_id_number,
)
from apps.identity.models import Enterprise, Person
from apps.marketplace import services
from apps.marketplace.constants import (
    AgencyServiceStatus,
    AgencyStatus,
    ProjectStatus,
    SanctionKind,
)
from apps.marketplace.models import (
    Agency,
    AgencyService,
    Contract,
    IntermediaryService,
    Project,
    Qualification,
    QualificationGrade,
)

OWNER = "demo-market-owner"
OPERATOR = "demo-market-operator"

SERVICES = (
    (
        "ZJFW-HP-001",
        "建设项目环境影响评价",
        "《中华人民共和国环境影响评价法》第十九条、第二十条",
        [{"code": "EIA", "name": "环境影响评价资质", "min_grade": QualificationGrade.GRADE_B}],
    ),
    (
        "ZJFW-DZ-002",
        "地质灾害危险性评估",
        "《地质灾害防治条例》第二十一条",
        [
            {
                "code": "GEO",
                "name": "地质灾害危险性评估资质",
                "min_grade": QualificationGrade.GRADE_C,
            }
        ],
    ),
    (
        "ZJFW-CH-003",
        "建设工程规划测绘",
        "《中华人民共和国测绘法》第二十七条",
        [{"code": "SURVEY", "name": "测绘资质", "min_grade": QualificationGrade.NONE}],
    ),
)

AGENCY_NAMES = (
    "江西绿源环境咨询有限公司",
    "南昌清流环保科技有限公司",
    "赣江生态评价有限公司",
    "洪城环境工程咨询有限公司",
    "江西山川地质勘查有限公司",
    "鄱湖测绘技术有限公司",
    "南昌恒信工程技术有限公司",
    "江西华测检测有限公司",
    "赣州宏图测绘有限公司",
    "九江长江环保咨询有限公司",
    "江西正源地质工程有限公司",
    "上饶明远工程咨询有限公司",
    "宜春绿谷环境科技有限公司",
    "吉安井冈测绘有限公司",
    "抚州临川工程咨询有限公司",
    "萍乡安源地质勘查有限公司",
    "新余钢城环保科技有限公司",
    "鹰潭龙虎测绘有限公司",
    "景德镇瓷都工程咨询有限公司",
    "江西中赣环境评价有限公司",
    "南昌青山湖测绘有限公司",
    "江西国土规划设计有限公司",
    "江西诚信环境监测有限公司",
    "南昌红谷工程技术有限公司",
    "江西碧水环境咨询有限公司",
    "赣北地质灾害防治有限公司",
    "江西天元测绘有限公司",
    "南昌赣水环境科技有限公司",
    "江西方圆工程咨询有限公司",
    "江西东方测绘有限公司",
)


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


def _person_user(username: str, name: str, sequence: int, *, password: bool) -> Any:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(username=username)
        if password:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save()
        person = Person(user=user, name=name, assurance_level=AssuranceLevel.L3)
        person.set_id_number(make_id_number("360102", "19860101", sequence))
        person.level_raised_at = timezone.now()
        person.save()
    return user


def _agencies(services_list: list[IntermediaryService], today: datetime.date) -> list[Agency]:
    agencies = []
    for index, name in enumerate(AGENCY_NAMES):
        rep = _person_user(
            f"demo-agency-{index + 1:02d}",
            f"机构代表{index + 1}",
            100 + index,
            password=index == 0,
        )
        enterprise, _created = Enterprise.objects.get_or_create(
            uscc=make_enterprise_uscc("360102", 7000 + index),
            defaults={
                "name": name,
                "legal_rep_name": f"机构代表{index + 1}",
                "legal_representative": rep,
            },
        )
        agency = Agency.objects.create(
            enterprise=enterprise,
            submitted_by=rep,
            status=AgencyStatus.LISTED,
            contact_phone=f"0791-8{index:03d}0000",
            commitment_signed_at=timezone.now(),
            commitment_version="2026-1",
            listed_at=timezone.now(),
            credit_score=Decimal(100 - (index * 7) % 25),
        )
        service = services_list[index % 3]
        requirement = service.required_qualifications[0]
        # Every seventh agency's certificate expires within the notice period; one has expired.
        valid_until = today + datetime.timedelta(days=15 if index % 7 == 3 else 700)
        if index == 29:
            valid_until = today - datetime.timedelta(days=2)
        qualification = Qualification.objects.create(
            agency=agency,
            code=requirement["code"],
            name=requirement["name"],
            grade=QualificationGrade.GRADE_A if index % 2 else QualificationGrade.GRADE_B,
            number=f"ZZ-{requirement['code']}-{2024000 + index}",
            issuer="江西省自然资源厅" if requirement["code"] != "EIA" else "江西省生态环境厅",
            valid_from=datetime.date(2024, 1, 1),
            valid_until=valid_until,
            scope=service.name,
        )
        offer = AgencyService.objects.create(
            agency=agency, service=service, status=AgencyServiceStatus.ACTIVE
        )
        offer.qualifications.add(qualification)
        agencies.append(agency)
    return agencies


def _register(project: Project, agencies: list[Agency], **kwargs: Any) -> None:
    for agency in agencies:
        services.register_for_project(
            user=agency.submitted_by, project_id=project.pk, agency_id=agency.pk, **kwargs
        )


def load_marketplace_demo(*, stdout: Writer) -> dict[str, int]:
    if IntermediaryService.objects.filter(code=SERVICES[0][0]).exists():
        return {"services": 0, "agencies": 0, "projects": 0}
    department = Department.objects.filter(uscc=DEMO_DEPARTMENT_USCC).first()
    if department is None:
        raise DemoDataError("演示部门不存在：请先加载 core 与 identity 演示数据")
    services_list = [
        IntermediaryService.objects.create(
            code=code,
            name=name,
            department=department,
            legal_basis=basis,
            required_qualifications=requirements,
        )
        for code, name, basis, requirements in SERVICES
    ]
    real_now = timezone.now()
    today = timezone.localdate()
    agencies = _agencies(services_list, today)
    owner = _person_user(OWNER, "刘业主", 90, password=True)
    operator = _person_user(OPERATOR, "周运营", 91, password=True)
    operator.user_permissions.add(Permission.objects.get(codename="operate_marketplace"))
    operator = get_user_model().objects.get(pk=operator.pk)
    eia = [
        a
        for a in agencies
        if a.status == AgencyStatus.LISTED and a.services.get().service == services_list[0]
    ]
    geo = [
        a
        for a in agencies
        if a.status == AgencyStatus.LISTED and a.services.get().service == services_list[1]
    ]

    def post(
        moment: datetime.datetime,
        service: IntermediaryService,
        name: str,
        method: str,
        publish: bool = True,
        **extra: Any,
    ) -> Project:
        fields: dict[str, Any] = {
            "scope": "编制报告并通过主管部门技术审查",
            "requirements": [],
            "budget": Decimal("90000"),
            "time_limit_days": 30,
            "registration_closes_at": moment + datetime.timedelta(days=3),
            "selection_at": moment + datetime.timedelta(days=3, hours=1),
            "is_fiscal_funded": True,
            "contact": "0791-86000000",
        }
        fields.update(extra)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            project = services.submit_project(
                user=owner, enterprise=None, service=service, name=name, method=method, **fields
            )
            if publish:
                project = services.review_project(
                    operator=operator, project_id=project.pk, approve=True
                )
        return project

    def at(moment: datetime.datetime, function: Any, **kwargs: Any) -> Any:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            return function(**kwargs)

    past = real_now - datetime.timedelta(days=20)
    # 1. A completed random draw, with its published inputs.
    drawn = post(past, services_list[0], "红谷滩新区污水处理厂扩建项目环境影响评价", "random")
    at(past + datetime.timedelta(hours=1), lambda: _register(drawn, eia[:5]))
    at(past, services.set_owner_nonce, user=owner, project_id=drawn.pk, nonce="20261115-刘业主")
    at(drawn.registration_closes_at, services.close_registration, project_id=drawn.pk)
    at(drawn.selection_at, services.run_selection, project_id=drawn.pk)
    # 2. 信用择优 waiting for the owner's pick.
    credit = post(
        past,
        services_list[0],
        "昌北工业园标准厂房环境影响评价",
        "credit",
        big_list_size=4,
        small_list_size=2,
    )
    at(past + datetime.timedelta(hours=1), lambda: _register(credit, eia[3:9]))
    at(credit.registration_closes_at, services.close_registration, project_id=credit.pk)
    at(credit.selection_at, services.run_selection, project_id=credit.pk)
    # 3. A failed project: one registrant.
    failed = post(past, services_list[1], "某乡村道路边坡地质灾害危险性评估", "random")
    at(past + datetime.timedelta(hours=1), lambda: _register(failed, geo[:1]))
    at(failed.registration_closes_at, services.close_registration, project_id=failed.pk)
    # 4. 竞价 finished: two rounds.
    bidding = post(
        past,
        services_list[1],
        "赣江新区某地块地质灾害危险性评估",
        "bidding",
        bid_rounds=2,
        bid_round_minutes=10,
    )
    at(past + datetime.timedelta(hours=1), lambda: _register(bidding, geo[:3]))
    at(bidding.registration_closes_at, services.close_registration, project_id=bidding.pk)
    for number, prices in ((1, (82000, 79000, 85000)), (2, (76000, 78000, 80000))):
        opens, _closes = bidding.bid_round_window(number)
        for agency, price in zip(geo[:3], prices, strict=True):
            at(
                opens + datetime.timedelta(minutes=1),
                services.place_bid,
                user=agency.submitted_by,
                project_id=bidding.pk,
                agency_id=agency.pk,
                price=Decimal(price),
            )
    at(bidding.bidding_ends_at, services.run_selection, project_id=bidding.pk)
    # 5. 直接选取 (small amount, reason recorded).
    direct = post(
        past,
        services_list[0],
        "社区卫生服务站改造环境影响登记表编制",
        "direct",
        budget=Decimal("8000"),
        direct_reason="小额项目，限额以下直接选取",
    )
    at(
        past + datetime.timedelta(hours=2),
        services.select_directly,
        user=owner,
        project_id=direct.pk,
        agency_id=eia[0].pk,
        price=Decimal("7500"),
    )
    # 6. Open for registration now, and one awaiting review, one returned.
    recent = real_now - datetime.timedelta(hours=2)
    open_project = post(recent, services_list[0], "青山湖区雨污分流改造工程环境影响评价", "random")
    at(recent + datetime.timedelta(minutes=30), lambda: _register(open_project, eia[:2]))
    post(
        recent,
        services_list[1],
        "南昌县某物流园地质灾害危险性评估",
        "credit",
        publish=False,
        big_list_size=5,
        small_list_size=3,
    )
    returned = post(recent, services_list[0], "某厂区环境影响后评价", "random", publish=False)
    at(
        recent,
        services.review_project,
        operator=operator,
        project_id=returned.pk,
        approve=False,
        note="服务范围描述不清，请补充建设规模",
    )
    # The award's 公示 ends (beat) and the contract opens; both sides confirm it, then the
    # completion, and the owner evaluates: the credit changes.
    for awarded in Project.objects.filter(
        status=ProjectStatus.AWARDED, award_publicity_ends_at__lte=real_now
    ):
        at(awarded.award_publicity_ends_at, services.end_award_publicity, project_id=awarded.pk)
    contract = Contract.objects.get(project=direct)
    for user in (owner, eia[0].submitted_by):
        at(
            past + datetime.timedelta(days=5),
            services.confirm_contract,
            user=user,
            contract_id=contract.pk,
        )
    for user in (owner, eia[0].submitted_by):
        at(
            past + datetime.timedelta(days=9),
            services.confirm_completion,
            user=user,
            contract_id=contract.pk,
        )
    at(
        past + datetime.timedelta(days=10),
        services.evaluate_agency,
        user=owner,
        contract_id=contract.pk,
        score=85,
        comment="报告质量较好，响应及时",
    )
    # One agency blacklisted for refusing to sign after winning (public on /marketplace/blacklist/).
    services.impose_sanction(
        user=operator,
        agency_id=agencies[-2].pk,
        kind=SanctionKind.BLACKLIST,
        reason="中选后无正当理由拒不签订合同，列入黑名单",
    )
    # Expired qualifications suspend their services; expiring ones get a notice.
    services.suspend_expired_qualifications()
    return {
        "services": len(services_list),
        "agencies": len(agencies),
        "projects": Project.objects.count(),
    }
