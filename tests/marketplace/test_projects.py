from datetime import timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace import drawing
from apps.marketplace.constants import DrawStatus, ProjectStatus
from apps.marketplace.models import Project, Registration
from apps.marketplace.services import register_for_project, submit_project
from apps.notifications.models import Notification
from tests.marketplace.factories import l3_user, listed_agency, published_project

pytestmark = pytest.mark.django_db


def _submit(service, user, **overrides):
    now = timezone.now()
    fields = {
        "user": user,
        "enterprise": None,
        "service": service,
        "name": "项目",
        "scope": "范围",
        "requirements": [],
        "budget": Decimal("80000"),
        "time_limit_days": 30,
        "method": "random",
        "registration_closes_at": now + timedelta(hours=2),
        "selection_at": now + timedelta(hours=3),
    }
    fields.update(overrides)
    return submit_project(**fields)


@pytest.mark.parametrize(
    ("_case", "requirement", "reason"),
    [
        (
            "qualification_the_law_does_not_require",
            {"code": "ISO9001", "name": "ISO9001认证"},
            "「ISO9001认证」不是该中介服务的法定资质要求，属于额外设置的门槛",
        ),
        (
            "grade_above_the_legal_minimum",
            {"code": "EIA", "name": "环评资质", "min_grade": 3},
            "「环评资质」的等级要求高于法定要求",
        ),
    ],
)
def test_added_barrier_refused_with_reason(service, _case, requirement, reason):
    # when
    with pytest.raises(DomainError) as refused:
        _submit(service, l3_user(), requirements=[requirement])
    # then
    assert refused.value.code == "added_barrier"
    assert refused.value.message == reason
    assert Project.objects.count() == 0


def test_restating_the_law_is_accepted_and_the_legal_minimum_always_applies(service):
    # when
    project = _submit(service, l3_user(), requirements=[{"code": "EIA", "min_grade": 1}])
    # then: a lower grade is allowed as text, but eligibility still checks the law's 乙级
    assert project.qualification_requirements == [{"code": "EIA", "name": "EIA", "min_grade": 1}]
    assert project.status == ProjectStatus.SUBMITTED


@pytest.mark.parametrize(
    ("_case", "overrides"),
    [
        (
            "direct_above_limit",
            {"method": "direct", "budget": Decimal("60000"), "direct_reason": "急"},
        ),
        ("direct_without_reason", {"method": "direct", "budget": Decimal("1000")}),
        ("credit_without_lists", {"method": "credit"}),
        ("proposal_weights_not_100", {"method": "proposal", "rubric": {"方案": 50}}),
        ("close_in_the_past", {"registration_closes_at": timezone.now() - timedelta(minutes=1)}),
    ],
)
def test_bad_projects_refused(service, _case, overrides):
    with pytest.raises(DomainError):
        _submit(service, l3_user(), **overrides)
    assert Project.objects.count() == 0


def test_l2_person_may_not_post(service):
    from tests.identity.factories import verified_user

    with pytest.raises(DomainError):
        _submit(service, verified_user())
    assert AuditEvent.objects.count() == 0


def test_publishing_commits_to_a_seed_and_notifies_eligible_agencies(service, operator):
    # given
    agency = listed_agency(service)
    # when
    project = published_project(service, operator=operator)
    # then
    draw = project.draw
    assert project.status == ProjectStatus.REGISTERING
    assert draw.status == DrawStatus.COMMITTED
    assert draw.seed_commitment == drawing.seed_commitment(draw.server_seed)
    assert Notification.objects.get().recipient == agency.submitted_by
    event = AuditEvent.objects.get(action="marketplace.project_published")
    assert event.data["commitment"] == draw.seed_commitment


def test_registration_checks_eligibility_and_duplicates(service):
    # given
    project = published_project(service)
    agency = listed_agency(service)
    rep = agency.enterprise.legal_representative
    # when
    register_for_project(user=rep, project_id=project.pk, agency_id=agency.pk)
    with pytest.raises(DomainError) as again:
        register_for_project(user=rep, project_id=project.pk, agency_id=agency.pk)
    # then
    assert again.value.code == "already_registered"
    assert Registration.objects.count() == 1


def test_unqualified_or_foreign_user_refused(service):
    # given
    project = published_project(service)
    agency = listed_agency(service)
    agency.services.get().qualifications.update(grade=1)  # below the law's 乙级
    # when
    with pytest.raises(DomainError) as unqualified:
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    with pytest.raises(DomainError) as stranger:
        register_for_project(user=l3_user(), project_id=project.pk, agency_id=agency.pk)
    # then
    assert (unqualified.value.code, stranger.value.code) == ("not_eligible", "forbidden")
    assert Registration.objects.count() == 0
