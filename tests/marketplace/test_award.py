"""中选公示 and 异议: the contract opens only after the publicity period, with no objection
pending; an upheld objection annuls the award."""

from datetime import timedelta

import pytest
import time_machine

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace.constants import ObjectionStatus, ProjectStatus
from apps.marketplace.models import Contract, Objection, Project
from apps.marketplace.services import (
    close_registration,
    dispatch_due_projects,
    handle_objection,
    raise_objection,
    register_for_project,
    run_selection,
)
from apps.notifications.models import Notification
from tests.marketplace.factories import l3_user, listed_agency, published_project

pytestmark = pytest.mark.django_db

REASON = "中选机构的资质证书在报名截止前已过期，不符合报名条件"


def _at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def awarded(service):
    """A 随机抽取 project drawn among three registrants: (project, winner, losers)."""
    project = published_project(service)
    agencies = [listed_agency(service) for _ in range(3)]
    for agency in agencies:
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    with _at(project.selection_at):
        close_registration(project_id=project.pk)
        run_selection(project_id=project.pk)
    project.refresh_from_db()
    losers = [a for a in agencies if a.pk != project.winner_id]
    return project, project.winner, losers


def _object(project, agency, reason=REASON):
    return raise_objection(
        user=agency.enterprise.legal_representative,
        project_id=project.pk,
        agency_id=agency.pk,
        reason=reason,
    )


def test_award_starts_publicity_and_beat_opens_the_contract_only_after_it(awarded):
    project, winner, _losers = awarded
    # when: beat runs during the period, then at its end (twice)
    with _at(project.award_publicity_ends_at - timedelta(minutes=1)):
        during = dispatch_due_projects()
    with _at(project.award_publicity_ends_at):
        after = dispatch_due_projects()
        again = dispatch_due_projects()
    # then
    assert project.award_publicity_ends_at == project.awarded_at + timedelta(days=3)
    assert (during["contracts"], after["contracts"], again["contracts"]) == (0, 1, 0)
    contract = Contract.objects.get()
    assert contract.agency == winner
    assert contract.sign_by == project.award_publicity_ends_at + timedelta(days=10)
    assert AuditEvent.objects.filter(action="marketplace.award_publicity_ended").count() == 1
    assert Notification.objects.filter(kind="marketplace.contract_open").count() == 2


def test_objection_holds_the_contract_until_dismissed(awarded, operator):
    project, _winner, losers = awarded
    objection = _object(project, losers[0])
    # when: the period ends with the objection pending, then the operator dismisses it
    with _at(project.award_publicity_ends_at + timedelta(hours=1)):
        held = dispatch_due_projects()
        handle_objection(
            operator=operator, objection_id=objection.pk, uphold=False, reply="经核查，资质有效"
        )
    # then: no contract while pending; the dismissal opens it at once
    assert held["contracts"] == 0
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED
    assert abs(objection.reply_due_at - objection.created_at - timedelta(days=3)).seconds < 5
    assert Contract.objects.filter(project=project).exists()
    assert Notification.objects.filter(kind="marketplace.objection", recipient=operator).exists()
    assert Notification.objects.filter(
        kind="marketplace.objection_handled", recipient=losers[0].enterprise.legal_representative
    ).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"marketplace.objection_raised", "marketplace.objection_handled"} <= actions


def test_upheld_objection_annuls_the_award_and_closes_the_others(awarded, operator):
    project, winner, losers = awarded
    first = _object(project, losers[0])
    second = _object(project, losers[1])
    # when
    handle_objection(operator=operator, objection_id=first.pk, uphold=True, reply="资质确已过期")
    with _at(project.award_publicity_ends_at):
        dispatch_due_projects()
    # then
    project.refresh_from_db()
    second.refresh_from_db()
    assert project.status == ProjectStatus.FAILED
    assert winner.enterprise.name in project.failure_reason
    assert second.status == ObjectionStatus.CLOSED
    assert not Contract.objects.exists()
    assert AuditEvent.objects.filter(action="marketplace.award_annulled").count() == 1


def test_objections_refused_with_reasons(awarded, service, operator):
    project, winner, losers = awarded
    outsider = listed_agency(service)
    _object(project, losers[0])
    cases = {
        "winner": lambda: _object(project, winner),
        "not_registered": lambda: _object(project, outsider),
        "short": lambda: _object(project, losers[1], reason="不服"),
        "twice": lambda: _object(project, losers[0]),
        "stranger": lambda: raise_objection(
            user=l3_user(), project_id=project.pk, agency_id=losers[1].pk, reason=REASON
        ),
    }
    codes = {}
    for name, attempt in cases.items():
        with pytest.raises(DomainError) as error:
            attempt()
        codes[name] = error.value.code
    with _at(project.award_publicity_ends_at), pytest.raises(DomainError) as late:
        _object(project, losers[1])
    with pytest.raises(DomainError) as not_operator:
        handle_objection(
            operator=project.owner_user,
            objection_id=Objection.objects.get().pk,
            uphold=True,
            reply="x",
        )
    # then: each refused with its reason, nothing else recorded
    assert codes == {
        "winner": "forbidden",
        "not_registered": "not_registered",
        "short": "invalid",
        "twice": "already_pending",
        "stranger": "forbidden",
    }
    assert late.value.code == "too_late"
    assert not_operator.value.code == "forbidden"
    assert Objection.objects.count() == 1


def test_overdue_objection_reminds_the_operators_once(awarded, operator):
    project, _winner, losers = awarded
    objection = _object(project, losers[0])
    with _at(objection.reply_due_at + timedelta(minutes=1)):
        first = dispatch_due_projects()
        second = dispatch_due_projects()
    assert (first["overdue_objections"], second["overdue_objections"]) == (1, 0)
    assert (
        Notification.objects.filter(
            kind="marketplace.objection_overdue", recipient=operator
        ).count()
        == 1
    )


def test_objection_through_the_pages(client, awarded, operator, django_assert_max_num_queries):
    project, winner, losers = awarded
    agent = losers[0].enterprise.legal_representative
    page_url = reverse("marketplace:project", args=[project.pk])
    # when: the losing agency sees the form and objects; the winner sees no form
    client.force_login(winner.enterprise.legal_representative)
    winner_page = client.get(page_url).content.decode()
    client.force_login(agent)
    form_page = client.get(page_url).content.decode()
    client.post(
        reverse("marketplace:project_objection", args=[project.pk]),
        {"agency": losers[0].pk, "reason": REASON},
    )
    # and the operator answers it from the queue
    client.force_login(operator)
    with django_assert_max_num_queries(12):
        queue = client.get(reverse("marketplace_office:queue")).content.decode()
    objection = Objection.objects.get()
    client.post(
        reverse("marketplace_office:objection_handle", args=[objection.pk]),
        {"decision": "dismiss", "reply": "经核查，资质在有效期内"},
    )
    client.logout()
    public_page = client.get(page_url).content.decode()
    # then
    assert "提交异议" not in winner_page
    assert "提交异议" in form_page
    assert "公示期至" in form_page
    assert REASON in queue
    assert Objection.objects.get().status == ObjectionStatus.DISMISSED
    assert REASON not in public_page  # objections are not public
    assert Project.objects.get().status == ProjectStatus.AWARDED
