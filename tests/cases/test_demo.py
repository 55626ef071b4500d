"""The cases part of ``loaddemo``: every state for both demo applicants, built by the services."""

from io import StringIO

import pytest

from django.core.management import call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus, Channel
from apps.cases.demo import SCENARIOS, TAG, demo_case_states, load_cases_demo
from apps.cases.models import Case, CaseEvent, SlaWarning
from apps.cases.selectors import QueueFilters, list_cases_for_applicant, list_queue_for_clerk
from apps.handoffs.models import Handoff
from apps.handoffs.selectors import handoff_health
from apps.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loaders_up_to_this_app(demo_loaders_up_to) -> None:
    demo_loaders_up_to("apps.cases.demo.load_cases_demo")


EVERY_STATE = set(CaseStatus.values)


@pytest.fixture
def loaded() -> StringIO:
    out = StringIO()
    call_command("loaddemo", stdout=out)
    return out


def test_every_state_for_both_demo_applicants_with_consistent_history(loaded) -> None:
    # (one test: loading the demo catalogue takes ~20 s)
    citizen = User.objects.get(username="demo-citizen")
    legal_rep = User.objects.get(username="demo-enterprise")
    clerk = User.objects.get(username="demo-clerk")

    # every state, for each demo applicant
    states = demo_case_states()
    assert states["C"] == EVERY_STATE
    assert states["E"] == EVERY_STATE
    assert Case.objects.filter(form_data__note__startswith=TAG).count() == len(SCENARIOS)

    # ... shown on their pages and in the clerk's queue
    assert set(list_cases_for_applicant(citizen).values_list("status", flat=True)) == EVERY_STATE
    assert set(list_cases_for_applicant(legal_rep).values_list("status", flat=True)) == EVERY_STATE
    assert {c.status for c in list_queue_for_clerk(clerk, QueueFilters(status="live"))} >= {
        CaseStatus.SUBMITTED,
        CaseStatus.PRECHECKED,
        CaseStatus.AWAITING_SUPPLEMENT,
        CaseStatus.SUPPLEMENTED,
        CaseStatus.IN_REVIEW,
        CaseStatus.SUSPENDED,
    }
    assert Case.objects.filter(channel=Channel.WINDOW, hall__isnull=False).count() == 2
    # one of them for 郑秀英, who has no account (issue 16): nobody's online until claimed
    walk_in = Case.objects.get(walk_in_person__isnull=False)
    assert walk_in.applicant_name == "郑秀英"
    assert walk_in.applicant_user_id is None
    assert walk_in.acting_user_id is None
    assert walk_in.status == CaseStatus.ACCEPTED

    # every case's last state-changing event leads to its current state
    for case in Case.objects.filter(form_data__note__startswith=TAG):
        last = case.events.exclude(action__in=["material_added", "sla_warning"]).last()
        assert last is not None
        assert last.to_status == case.status, case.form_data["note"]

    # the platform's own rules ran: Art. 32, expired supplement periods, SLA warnings
    assert Case.objects.filter(deemed_accepted=True).count() == 1
    assert CaseEvent.objects.filter(action="expire_supplement").count() == 2
    assert SlaWarning.objects.filter(level="red").exists()

    # the agent's case records the authorisation used
    agent_case = Case.objects.get(form_data__note=f"{TAG} A01")
    assert agent_case.authorisation is not None
    assert agent_case.acting_user == citizen
    assert agent_case.enterprise is not None

    # a fresh demo looks live: the handoffs of cases accepted before today were signed for
    # back then, so /healthz reports nothing waiting (the pull inbox's one is minutes old)
    handoffs = handoff_health()
    assert handoffs["oldest_unacknowledged_age_seconds"] < 600
    assert handoffs["oldest_pending_age_seconds"] < 600
    assert handoffs["dead"] == 0
    past = Handoff.objects.filter(subject_type="cases.case", acknowledged_at__isnull=False)
    assert past.exists()
    for handoff in past:
        assert timezone.localdate(handoff.acknowledged_at) == timezone.localdate(handoff.created_at)

    # the audit chain is intact (audit_verify exits non-zero otherwise)
    call_command("audit_verify", stdout=StringIO())


def test_second_load_adds_nothing(loaded) -> None:
    before = (Case.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count())
    counts = load_cases_demo(stdout=StringIO())
    after = (Case.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count())
    assert counts["cases_created"] == 0
    assert counts["cases_existing"] == len(SCENARIOS)
    assert after == before
    assert demo_case_states()["C"] == EVERY_STATE
