"""The decision hook other apps (licences) plug into: called in the decision's transaction."""

import pytest

from apps.cases import services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.hooks import decision_handler
from apps.cases.models import Case, CaseEvent
from apps.cases.permissions import CaseActor
from apps.catalog.licence_types import licence_type_code
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

pytestmark = pytest.mark.django_db

LICENCE = licence_type_code("营业执照")


@pytest.fixture
def in_review(department):
    def make(**version_fields):
        reviewer = reviewer_of(department)
        case = case_in(
            CaseStatus.IN_REVIEW,
            version=item_version(department, **version_fields),
            applicant=citizen(),
            clerk=clerk_of(department),
            reviewer=reviewer,
        )
        return case, CaseActor.of(reviewer)

    return make


def test_handler_issues_the_result_licence_on_approval(in_review) -> None:
    # given: an item whose result is an e-licence, and a handler like the licences app's
    case, reviewer = in_review(result_type="licence", result_licence_type=LICENCE)
    seen = []

    def issue(event):
        seen.append((event.case.pk, event.decision, event.issues_licence, event.case.status))
        services.record_result_licence(
            case=event.case, identifier="1.2.156.3005.2.X", name="营业执照"
        )

    # when
    with decision_handler(issue):
        services.decide_case(
            case_id=case.pk, actor=reviewer, decision=Decision.APPROVED, complete=True
        )

    # then: called once, inside the transition, and the licence is on the case and timeline
    case.refresh_from_db()
    assert seen == [(case.pk, Decision.APPROVED, True, CaseStatus.DECIDED)]
    assert case.status == CaseStatus.COMPLETED
    assert case.result_data["licence"] == {"identifier": "1.2.156.3005.2.X", "name": "营业执照"}
    assert list(case.events.values_list("action", flat=True))[-3:] == [
        "decide",
        "result_licence",
        "complete",
    ]


@pytest.mark.parametrize(
    ("_case", "fields", "decision", "issues"),
    [
        (
            "refusal_issues_nothing",
            {"result_type": "licence", "result_licence_type": LICENCE},
            Decision.DENIED,
            False,
        ),
        ("item_without_licence", {}, Decision.APPROVED, False),
        (
            "partial_grant_issues",
            {"result_type": "licence", "result_licence_type": LICENCE},
            Decision.PARTIAL,
            True,
        ),
    ],
)
def test_issues_licence_flag(in_review, _case, fields, decision, issues) -> None:
    case, reviewer = in_review(**fields)
    seen = []
    with decision_handler(lambda event: seen.append(event.issues_licence)):
        services.decide_case(case_id=case.pk, actor=reviewer, decision=decision, reason="理由")
    assert seen == [issues]


def test_a_failing_handler_refuses_the_whole_decision(in_review) -> None:
    # given
    case, reviewer = in_review(result_type="licence", result_licence_type=LICENCE)
    events_before = CaseEvent.objects.filter(case=case).count()

    def broken(event):
        raise RuntimeError("licence registry unavailable")

    # when
    with decision_handler(broken), pytest.raises(RuntimeError):
        services.decide_case(case_id=case.pk, actor=reviewer, decision=Decision.APPROVED)

    # then: nothing half-written
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    assert CaseEvent.objects.filter(case=case).count() == events_before
