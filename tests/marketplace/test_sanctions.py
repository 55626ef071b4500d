"""Lifting sanctions: by the end of their period (beat) or earlier by decision, audited."""

from datetime import timedelta

import pytest
import time_machine

from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace.constants import AgencyStatus, SanctionKind
from apps.marketplace.models import Agency, Sanction
from apps.marketplace.services import impose_sanction, lift_ended_sanctions, lift_sanction
from tests.marketplace.factories import l3_user, listed_agency

pytestmark = pytest.mark.django_db


def _suspend(operator, agency, days):
    return impose_sanction(
        user=operator,
        agency_id=agency.pk,
        kind=SanctionKind.SUSPENSION,
        reason="虚假承诺",
        ends_on=timezone.localdate() + timedelta(days=days),
    )


def _status(agency):
    return Agency.objects.get(pk=agency.pk).status


def test_suspension_ends_by_itself_the_day_after_its_period(service, operator):
    agency = listed_agency(service)
    sanction = _suspend(operator, agency, days=3)
    last_day = timezone.now() + timedelta(days=3)
    # when: beat runs on the last day, then the day after (twice)
    with time_machine.travel(last_day, tick=False):
        on_last_day = lift_ended_sanctions()
    with time_machine.travel(last_day + timedelta(days=1), tick=False):
        after = lift_ended_sanctions()
        again = lift_ended_sanctions()
    # then
    assert (on_last_day, after, again) == (0, 1, 0)
    sanction.refresh_from_db()
    assert sanction.lifted_by is None
    assert sanction.lift_reason == "期限届满，自动解除"
    assert _status(agency) == AgencyStatus.LISTED
    event = AuditEvent.objects.get(action="marketplace.sanction_lifted")
    assert event.data["by_period"] is True
    assert event.data["agency_restored"] is True


def test_agency_stays_suspended_while_another_suspension_runs(service, operator):
    agency = listed_agency(service)
    short = _suspend(operator, agency, days=1)
    _suspend(operator, agency, days=30)
    # when
    lift_sanction(user=operator, sanction_id=short.pk, reason="已整改到位")
    # then
    assert _status(agency) == AgencyStatus.SUSPENDED


def test_early_lift_by_decision_and_refusals(service, operator):
    agency = listed_agency(service)
    sanction = _suspend(operator, agency, days=30)
    refusals = {}
    for name, user, reason in (
        ("stranger", l3_user(), "理由"),
        ("no_reason", operator, "  "),
    ):
        with pytest.raises(DomainError) as error:
            lift_sanction(user=user, sanction_id=sanction.pk, reason=reason)
        refusals[name] = error.value.code
    # when
    lift_sanction(user=operator, sanction_id=sanction.pk, reason="经复核，整改到位")
    with pytest.raises(DomainError) as twice:
        lift_sanction(user=operator, sanction_id=sanction.pk, reason="再次")
    # then
    assert refusals == {"stranger": "forbidden", "no_reason": "invalid"}
    assert twice.value.code == "invalid_state"
    sanction.refresh_from_db()
    assert (sanction.lifted_by, sanction.lift_reason) == (operator, "经复核，整改到位")
    assert _status(agency) == AgencyStatus.LISTED
    assert AuditEvent.objects.get(action="marketplace.sanction_lifted").data["by_period"] is False


def test_suspension_does_not_undo_an_expulsion(service, operator):
    agency = listed_agency(service)
    impose_sanction(user=operator, agency_id=agency.pk, kind=SanctionKind.EXPULSION, reason="串标")
    _suspend(operator, agency, days=5)
    assert _status(agency) == AgencyStatus.EXPELLED


def test_lifted_blacklisting_leaves_the_public_list_and_the_agency_stays_expelled(
    client, service, operator, django_assert_max_num_queries
):
    agency = listed_agency(service)
    sanction = impose_sanction(
        user=operator,
        agency_id=agency.pk,
        kind=SanctionKind.BLACKLIST,
        reason="串通报价",
        ends_on=timezone.localdate() + timedelta(days=365),
    )
    client.force_login(operator)
    with django_assert_max_num_queries(12):
        queue = client.get(reverse("marketplace_office:queue")).content.decode()
    # when: the operator lifts it from the queue
    client.post(
        reverse("marketplace_office:sanction_lift", args=[sanction.pk]),
        {"reason": "行政复议撤销原决定"},
    )
    client.logout()
    blacklist = client.get(reverse("marketplace:blacklist")).content.decode()
    detail = client.get(reverse("marketplace:agency", args=[agency.pk])).content.decode()
    # then
    assert "串通报价" in queue
    assert Sanction.objects.get().lifted_at is not None
    assert agency.enterprise.name not in blacklist
    assert "解除" in detail
    assert _status(agency) == AgencyStatus.EXPELLED
