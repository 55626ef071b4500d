import datetime
from datetime import timedelta
from decimal import Decimal

import factory

from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.identity.constants import AssuranceLevel
from apps.marketplace.constants import AgencyServiceStatus, AgencyStatus
from apps.marketplace.models import (
    Agency,
    AgencyService,
    IntermediaryService,
    Qualification,
    QualificationGrade,
)
from apps.marketplace.services import end_award_publicity, review_project, submit_project
from tests.core.factories import DepartmentFactory
from tests.identity.factories import EnterpriseFactory, UserFactory, verified_user

ENV_EVAL = {"code": "EIA", "name": "环境影响评价资质", "min_grade": QualificationGrade.GRADE_B}


def l3_user(name: str = "王芳"):
    """A real-name account raised to L3 (live face match)."""
    user = verified_user(name)
    user.person.assurance_level = AssuranceLevel.L3
    user.person.save(update_fields=["assurance_level"])
    return user


def operator_user():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="operate_marketplace"))
    return type(user).objects.get(pk=user.pk)


class IntermediaryServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntermediaryService

    code = factory.Sequence(lambda n: f"ZJFW{n:04d}")
    name = factory.Sequence(lambda n: f"建设项目环境影响评价{n}")
    department = factory.SubFactory(DepartmentFactory)
    legal_basis = "《中华人民共和国环境影响评价法》第十九条"
    required_qualifications = factory.LazyFunction(lambda: [dict(ENV_EVAL)])


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    enterprise = factory.SubFactory(
        EnterpriseFactory, legal_representative=factory.LazyFunction(l3_user)
    )
    submitted_by = factory.LazyAttribute(lambda o: o.enterprise.legal_representative)
    status = AgencyStatus.PENDING
    contact_phone = "0791-88888888"
    commitment_signed_at = factory.LazyFunction(timezone.now)
    commitment_version = "2026-1"

    class Params:
        listed = factory.Trait(
            status=AgencyStatus.LISTED, listed_at=factory.LazyFunction(timezone.now)
        )


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    agency = factory.SubFactory(AgencyFactory)
    code = ENV_EVAL["code"]
    name = ENV_EVAL["name"]
    grade = QualificationGrade.GRADE_A
    number = factory.Sequence(lambda n: f"HP-{n:06d}")
    issuer = "江西省生态环境厅"
    valid_from = datetime.date(2024, 1, 1)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


class AgencyServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyService
        skip_postgeneration_save = True

    agency = factory.SubFactory(AgencyFactory, listed=True)
    service = factory.SubFactory(IntermediaryServiceFactory)
    status = AgencyServiceStatus.ACTIVE

    @factory.post_generation
    def qualified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            self.qualifications.add(QualificationFactory(agency=self.agency))


def listed_agency(service, *, credit: str = "100", **kwargs):
    agency = AgencyFactory(listed=True, credit_score=Decimal(credit), **kwargs)
    AgencyServiceFactory(agency=agency, service=service)
    return agency


def published_project(service, *, owner=None, operator=None, method="random", **overrides):
    """A project posted by an L3 person and published by the operator (through the services)."""
    now = timezone.now()
    fields = {
        "name": "南昌某厂房扩建项目环境影响评价",
        "scope": "编制环境影响报告表",
        "requirements": [],
        "budget": Decimal("80000"),
        "time_limit_days": 30,
        "method": method,
        "registration_closes_at": now + timedelta(hours=2),
        "selection_at": now + timedelta(hours=3),
    }
    if method == "credit":
        fields.update(big_list_size=4, small_list_size=2)
    if method == "bidding":
        fields.update(bid_rounds=2, bid_round_minutes=10)
    if method == "proposal":
        fields.update(rubric={"方案": 60, "价格": 40})
    if method == "direct":
        fields.update(budget=Decimal("20000"), direct_reason="抢修配套的小额评估")
    fields.update(overrides)
    owner = owner or l3_user("李娜")
    project = submit_project(user=owner, enterprise=None, service=service, **fields)
    return review_project(operator=operator or operator_user(), project_id=project.pk, approve=True)


def after_award_publicity(project):
    """End the award's 公示 period as beat would (no objection): the contract opens."""
    import time_machine

    project.refresh_from_db()
    with time_machine.travel(project.award_publicity_ends_at, tick=False):
        end_award_publicity(project_id=project.pk)
    return project.contract
