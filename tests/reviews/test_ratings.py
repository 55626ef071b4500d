"""Who may rate what and when (DOMAIN.md §2.4): 一事一评, 一次一评, one + one follow-up,
staff never on their own service, the default after the window, masking and moderation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.constants import (
    GB_CODE,
    NATIONAL_CODE,
    Grade,
    ModerationStatus,
    RatingChannel,
    RatingSource,
)
from apps.reviews.models import ModerationWord, Rating, RectificationTicket, ReviewRollup
from tests.identity.factories import StaffMembershipFactory, UserFactory
from tests.reviews.factories import (
    BAD_REASON,
    GOOD_OPTION,
    ONLINE_BAD_REASON,
    WindowFactory,
    clerk_at,
    window_service,
)

TZ = ZoneInfo("Asia/Shanghai")


def _total(field: str) -> int:
    return sum(ReviewRollup.objects.filter(dimension="total").values_list(field, flat=True))


def test_grade_codes_are_mapped_in_both_orders() -> None:
    # GB/T 39046 A.8: 1 非常满意 … 5 非常不满意; the national interface is the reverse.
    assert [GB_CODE[g] for g in Grade.values] == [1, 2, 3, 4, 5]
    assert [NATIONAL_CODE[g] for g in Grade.values] == [5, 4, 3, 2, 1]


def test_applicant_rates_completed_case_once_plus_one_follow_up(completed_case) -> None:
    # given
    applicant = completed_case.acting_user
    # when
    first = services.rate_case(
        case_id=completed_case.pk, user=applicant, grade=Grade.SATISFIED, options=["50101"]
    )
    second = services.rate_case(
        case_id=completed_case.pk, user=applicant, grade=Grade.VERY_SATISFIED
    )
    # then
    first.refresh_from_db()
    assert (first.sequence, first.is_current) == (1, False)
    assert (second.sequence, second.is_current) == (2, True)
    assert first.rater == applicant
    assert first.channel == RatingChannel.PC
    with pytest.raises(DomainError) as error:
        services.rate_case(case_id=completed_case.pk, user=applicant, grade=Grade.SATISFIED)
    assert error.value.code == "already_rated"
    assert Rating.objects.count() == 2
    # the follow-up replaces the first one in the statistics
    assert (_total("ratings"), _total("grade_1"), _total("grade_2"), _total("services")) == (
        1,
        1,
        0,
        1,
    )
    assert AuditEvent.objects.filter(action="reviews.rate").count() == 2


@pytest.mark.parametrize(
    ("_case", "who"),
    [("stranger", "stranger"), ("clerk_of_the_case", "clerk"), ("anonymous", "anonymous")],
)
def test_only_the_applicant_or_agent_rates_a_case(completed_case, _case, who) -> None:
    from django.contrib.auth.models import AnonymousUser

    user = {
        "stranger": UserFactory(),
        "clerk": completed_case.accepted_by,
        "anonymous": AnonymousUser(),
    }[who]
    with pytest.raises(DomainError) as error:
        services.rate_case(case_id=completed_case.pk, user=user, grade=Grade.SATISFIED)
    assert error.value.code == "not_rater"
    assert Rating.objects.count() == 0


def test_staff_of_the_handling_department_cannot_rate_their_own_service(completed_case) -> None:
    # given the applicant also works in the department that handled the case
    applicant = completed_case.acting_user
    StaffMembershipFactory(
        user=applicant, department=completed_case.department, role=StaffRole.REVIEWER
    )
    # when / then
    with pytest.raises(DomainError) as error:
        services.rate_case(case_id=completed_case.pk, user=applicant, grade=Grade.SATISFIED)
    assert error.value.code == "not_rater"
    assert Rating.objects.count() == 0


def test_a_case_is_rated_only_once_completed(department) -> None:
    from apps.cases.constants import CaseStatus
    from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

    applicant = citizen()
    case = case_in(
        CaseStatus.IN_REVIEW,
        version=item_version(department),
        applicant=applicant,
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )
    with pytest.raises(DomainError) as error:
        services.rate_case(case_id=case.pk, user=applicant, grade=Grade.SATISFIED)
    assert error.value.code == "not_completed"
    assert Rating.objects.count() == 0


def test_bad_grade_needs_a_bad_reason_and_good_grade_refuses_one(completed_case) -> None:
    applicant = completed_case.acting_user
    with pytest.raises(DomainError) as missing:
        services.rate_case(case_id=completed_case.pk, user=applicant, grade=Grade.DISSATISFIED)
    with pytest.raises(DomainError) as mismatched:
        services.rate_case(
            case_id=completed_case.pk,
            user=applicant,
            grade=Grade.SATISFIED,
            options=[ONLINE_BAD_REASON],
        )
    assert (missing.value.code, mismatched.value.code) == ("reason_required", "invalid_options")
    assert Rating.objects.count() == 0


def test_window_service_is_rated_on_the_pad_once_with_its_token(department) -> None:
    # given
    service = window_service(department)
    token = services.pad_token(service)
    # when
    rating = services.rate_by_token(token=token, grade=Grade.SATISFIED, options=[GOOD_OPTION])
    # then
    assert (rating.channel, rating.rater, rating.service.staff) == (
        RatingChannel.HALL_PAD,
        None,
        service.staff,
    )
    with pytest.raises(DomainError) as reused:
        services.rate_by_token(token=token, grade=Grade.VERY_SATISFIED)
    assert reused.value.code == "token_used"
    assert Rating.objects.count() == 1


def test_forged_pad_token_is_refused(department) -> None:
    service = window_service(department)
    token = services.pad_token(service)
    with pytest.raises(DomainError) as error:
        services.rate_by_token(token=token[:-2] + "xx", grade=Grade.SATISFIED)
    assert error.value.code == "bad_token"
    assert Rating.objects.count() == 0


def test_clerk_signed_in_on_the_pad_cannot_rate_own_service(department) -> None:
    window = WindowFactory(departments=[department])
    clerk = clerk_at(window, department)
    service = window_service(department, clerk=clerk, window=window)
    with pytest.raises(DomainError) as error:
        services.rate_by_token(
            token=services.pad_token(service), grade=Grade.VERY_SATISFIED, user=clerk
        )
    assert error.value.code == "own_service"
    assert Rating.objects.count() == 0


def test_person_served_adds_one_follow_up_to_a_window_service(department) -> None:
    person = UserFactory()
    service = window_service(department, served_user=person)
    services.rate_by_token(
        token=services.pad_token(service), grade=Grade.DISSATISFIED, options=[BAD_REASON]
    )
    follow_up = services.rate_service_followup(
        service_id=service.pk, user=person, grade=Grade.SATISFIED
    )
    assert (follow_up.sequence, follow_up.rater) == (2, person)
    with pytest.raises(DomainError) as stranger:
        services.rate_service_followup(
            service_id=service.pk, user=UserFactory(), grade=Grade.SATISFIED
        )
    assert stranger.value.code == "not_rater"


def test_unrated_service_becomes_basically_satisfied_after_seven_days(department) -> None:
    # given a window service on 2026-03-02 10:00
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=TZ), tick=False):
        service = window_service(department)
    # when the beat runs 6 days 23 hours later, nothing happens
    with time_machine.travel(datetime(2026, 3, 9, 9, 0, tzinfo=TZ), tick=False):
        assert services.apply_default_ratings() == 0
    # when it runs after 7 natural days
    with time_machine.travel(datetime(2026, 3, 9, 10, 1, tzinfo=TZ), tick=False):
        assert services.apply_default_ratings() == 1
        assert services.apply_default_ratings() == 0  # idempotent
        # then a late rating is refused
        with pytest.raises(DomainError) as late:
            services.rate_by_token(token=services.pad_token(service), grade=Grade.VERY_DISSATISFIED)
    rating = Rating.objects.get()
    assert (rating.grade, rating.channel, rating.source, rating.rater) == (
        Grade.BASICALLY_SATISFIED,
        RatingChannel.SYSTEM_DEFAULT,
        RatingSource.SYSTEM_DEFAULT,
        None,
    )
    assert late.value.code in ("token_used", "rating_closed")
    assert not RectificationTicket.objects.exists()
    # statistics keep defaults apart from the raters' ratings
    assert (_total("defaults"), _total("ratings"), _total("grade_3")) == (1, 0, 0)


def test_default_window_is_configurable_per_region(department) -> None:
    from apps.reviews.models import ReviewPolicy

    ReviewPolicy.objects.create(region=department.region, default_after_days=3)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=TZ), tick=False):
        service = window_service(department)
    assert service.default_due_at == datetime(2026, 3, 5, 10, 0, tzinfo=TZ)


def test_completed_cases_are_registered_and_defaulted(completed_case) -> None:
    with time_machine.travel(completed_case.completed_at + timedelta(days=8)):
        assert services.apply_default_ratings() == 1
    assert Rating.objects.get().service.case == completed_case


def test_typed_id_and_phone_numbers_are_masked_before_storing(completed_case) -> None:
    # when
    rating = services.rate_case(
        case_id=completed_case.pk,
        user=completed_case.acting_user,
        grade=Grade.SATISFIED,
        comment="我的身份证 11010519491231002X，电话 138 0013 8000，座机0791-86812345，谢谢",
    )
    # then the row holds only masked numbers
    stored = Rating.objects.values_list("comment", flat=True).get(pk=rating.pk)
    assert stored == "我的身份证 1101**********002X，电话 138****8000，座机0791-****2345，谢谢"
    assert "11010519491231002X" not in stored
    assert "13800138000" not in stored.replace(" ", "")


def test_moderation_holds_the_text_never_the_grade(completed_case) -> None:
    # given
    ModerationWord.objects.create(word="骗子")
    # when
    rating = services.rate_case(
        case_id=completed_case.pk,
        user=completed_case.acting_user,
        grade=Grade.VERY_DISSATISFIED,
        options=[ONLINE_BAD_REASON],
        comment="窗口都是骗 子",
    )
    # then
    rating.refresh_from_db()
    assert (rating.grade, rating.moderation) == (Grade.VERY_DISSATISFIED, ModerationStatus.HELD)
    assert _total("grade_5") == 1
    assert RectificationTicket.objects.filter(rating=rating).exists()
