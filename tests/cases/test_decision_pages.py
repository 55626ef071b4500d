"""Being told the outcome: the progress stepper on the case page, the printable decision
document (准予 / 不予行政许可决定书) and 下一步 — pickup at which window and from when, courier,
the e-licence in the wallet, or the remedies after a refusal."""

from __future__ import annotations

import pytest

from django.urls import reverse
from django.utils import timezone

from apps.cases import selectors, services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.permissions import CaseActor
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(department):
    return {
        "version": item_version(department),
        "applicant": citizen("王芳"),
        "clerk": clerk_of(department),
        "reviewer": reviewer_of(department),
    }


def _case(people, status):
    return case_in(
        status,
        version=people["version"],
        applicant=people["applicant"],
        clerk=people["clerk"],
        reviewer=people["reviewer"],
    )


def _reviewing(people):
    return _case(people, CaseStatus.IN_REVIEW)


def _pages(client, case):
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    document = client.get(reverse("cases:notice", args=[case.pk, "decision"]))
    return detail, document


@pytest.mark.parametrize(
    ("status", "states"),
    [
        (CaseStatus.SUBMITTED, ["done", "current", "upcoming", "upcoming", "upcoming", "upcoming"]),
        (CaseStatus.ACCEPTED, ["done", "done", "current", "upcoming", "upcoming", "upcoming"]),
        (CaseStatus.COMPLETED, ["done", "done", "done", "done", "done", "current"]),
        (CaseStatus.DELIVERED, ["done"] * 6),
    ],
)
def test_the_stepper_shows_where_the_case_stands(people, status, states) -> None:
    # given
    case = _case(people, status)

    # when
    steps = selectors.progress_steps(case)

    # then
    assert [step.label for step in steps] == ["申报", "受理", "审查", "决定", "办结", "送达"]
    assert [step.state for step in steps] == states


def test_an_approval_to_pick_up_says_where_and_from_when_and_prints_the_decision(
    client, people, django_assert_max_num_queries
) -> None:
    # given: approved and completed; the department names the window
    case = _reviewing(people)
    dept = CaseActor.of(people["reviewer"])
    services.decide_case(
        case_id=case.pk,
        actor=dept,
        decision=Decision.APPROVED,
        result_data={"delivery": {"method": "window", "window": "3号窗口"}},
        complete=True,
    )
    client.force_login(people["applicant"])

    # when
    with django_assert_max_num_queries(20):
        detail, document = _pages(client, case)

    # then: 下一步 on the case page
    assert 'data-testid="next-steps"' in detail
    assert "领取地点" in detail
    assert "江西省政务服务中心一楼，3号窗口" in detail  # the item's 办理地点 + the window
    case.refresh_from_db()
    assert f"{timezone.localtime(case.completed_at):%Y-%m-%d} 起" in detail
    assert "工作日 9:00-17:00" in detail
    assert 'data-testid="decision-link"' in detail
    # and the decision document, printable
    html = document.content.decode()
    assert document.status_code == 200
    assert "准予行政许可决定书" in html
    assert "窗口领取" in html
    assert "3号窗口" in html
    assert "data-print" in html


def test_a_courier_delivery_gives_the_address_and_tracking_number(client, people) -> None:
    # given
    case = _reviewing(people)
    services.decide_case(
        case_id=case.pk,
        actor=CaseActor.of(people["reviewer"]),
        decision=Decision.APPROVED,
        result_data={
            "delivery": {
                "method": "courier",
                "address": "南昌市红谷滩区丰和中大道1号",
                "tracking": "SF1234567890",
            }
        },
    )
    client.force_login(people["applicant"])

    # when
    detail, document = _pages(client, case)

    # then
    assert "办理结果将通过邮政快递寄送给您" in detail
    assert "SF1234567890" in detail
    assert "邮政快递寄送" in document.content.decode()


def test_a_result_licence_points_to_the_wallet(client, people) -> None:
    # given: approved, the result licence recorded by the decision hook
    case = _reviewing(people)
    services.decide_case(
        case_id=case.pk, actor=CaseActor.of(people["reviewer"]), decision=Decision.APPROVED
    )
    case.refresh_from_db()
    if not (case.result_data or {}).get("licence"):
        from django.db import transaction

        with transaction.atomic():
            locked = type(case).objects.select_for_update().get(pk=case.pk)
            services.record_result_licence(
                case=locked, identifier="JX-2026-0001", name="测试许可证"
            )
    client.force_login(people["applicant"])

    # when
    detail, document = _pages(client, case)

    # then
    assert "结果证照“测试许可证”已生成并放入您的电子证照夹" in detail
    assert "JX-2026-0001" in detail
    assert 'data-testid="wallet-link"' in detail
    assert reverse("licences:wallet") in detail
    assert "电子证照已放入申请人的电子证照夹" in document.content.decode()


def test_a_refusal_prints_the_refusal_document_with_its_reasons_and_remedies(
    client, people
) -> None:
    # given
    case = _reviewing(people)
    services.decide_case(
        case_id=case.pk,
        actor=CaseActor.of(people["reviewer"]),
        decision=Decision.DENIED,
        reason="经营场所不符合卫生要求",
    )
    client.force_login(people["applicant"])

    # when
    detail, document = _pages(client, case)

    # then
    html = document.content.decode()
    assert "不予行政许可决定书" in html
    assert "经营场所不符合卫生要求" in html
    assert "行政复议" in html
    assert "行政复议" in detail
    assert "领取地点" not in detail
    assert "0791-12345" in detail  # whom to ask


def test_no_decision_document_before_a_decision(client, people) -> None:
    case = _case(people, CaseStatus.ACCEPTED)
    client.force_login(people["applicant"])

    detail, document = _pages(client, case)

    assert document.status_code == 404
    assert 'data-testid="next-steps"' not in detail


def test_another_person_cannot_read_the_decision(client, people) -> None:
    case = _case(people, CaseStatus.COMPLETED)
    client.force_login(citizen("李四"))

    response = client.get(reverse("cases:notice", args=[case.pk, "decision"]))

    assert response.status_code == 404
