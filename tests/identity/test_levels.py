"""Real-name levels L3 and L4 reachable in the product (DOMAIN.md §4.2): L3 through the
pluggable real-person provider (development: bank-card four factors), L4 by a window clerk
face to face; the profile and L3 pages return to the sign-in that asked (``next``)."""

import pytest

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import AssuranceLevel, AssuranceMethod
from apps.identity.models import AssuranceRaise, Person
from apps.identity.verification import VerificationOutcome
from tests.identity.factories import PersonFactory, PopulationRecordFactory, verified_user

pytestmark = pytest.mark.django_db

PHONE = "13700002222"
CARD = "6222021234567890128"  # Luhn-valid
BAD_CARD = "6222021234567890127"
NEXT = "/o/authorize/?client_id=abc&acr_values=urn%3Agovportal%3Aloa%3A3"


@pytest.fixture
def l2_user():
    return verified_user("冯晓丽", phone=PHONE)


def _factors(user, **overrides) -> dict[str, str]:
    data = {
        "name": "冯晓丽",
        "id_number": user.person.id_number,
        "phone": PHONE,
        "card_number": CARD,
    }
    data.update(overrides)
    return data


# --- L3: the service and the provider ---------------------------------------------------------


def test_bank_card_four_factors_raise_to_l3_recorded_and_audited(l2_user) -> None:
    # when
    person = services.verify_level_three(user=l2_user, **_factors(l2_user))

    # then
    assert person.assurance_level == AssuranceLevel.L3
    last = AssuranceRaise.objects.filter(person=person).latest("created_at")
    assert (last.from_level, last.to_level) == (2, 3)
    assert last.method == AssuranceMethod.BANK_FOUR_FACTOR
    assert last.raised_by is None
    event = AuditEvent.objects.get(action="identity.level_raised")
    assert event.data == {"level": 3, "method": "bank_four_factor"}
    assert CARD not in str(event.data)


@pytest.mark.parametrize(
    ("_case", "overrides", "message"),
    [
        ("card fails Luhn", {"card_number": BAD_CARD}, "银行卡号校验不通过"),
        ("other phone", {"phone": "13700009999"}, "手机号码与您注册的手机号码不一致"),
        ("wrong name", {"name": "冯小丽"}, "姓名与身份证号码不一致"),
    ],
)
def test_wrong_factors_are_refused_and_nothing_changes(l2_user, _case, overrides, message):
    with pytest.raises(DomainError) as excinfo:
        services.verify_level_three(user=l2_user, **_factors(l2_user, **overrides))
    assert message in excinfo.value.message
    assert Person.objects.get(user=l2_user).assurance_level == AssuranceLevel.L2
    assert not AuditEvent.objects.filter(action="identity.level_raised").exists()


def test_someone_else_s_registry_entry_is_refused(l2_user) -> None:
    # given: a real registry entry that is not this person's
    other_id = verified_user("冯晓丽").person.id_number
    with pytest.raises(DomainError) as excinfo:
        services.verify_level_three(user=l2_user, **_factors(l2_user, id_number=other_id))
    assert "与您实名核验时的号码不一致" in excinfo.value.message


def test_l1_person_must_verify_real_name_first() -> None:
    user = PersonFactory(phone=PHONE).user
    with pytest.raises(DomainError) as excinfo:
        services.verify_level_three(
            user=user, name="x", id_number="x", phone=PHONE, card_number=CARD
        )
    assert excinfo.value.code == "needs_l2"


def test_failed_attempts_are_limited_per_day(l2_user, settings) -> None:
    # given
    settings.IDENTITY_L3_DAILY_ATTEMPTS = 2
    for _ in range(2):
        with pytest.raises(DomainError):
            services.verify_level_three(user=l2_user, **_factors(l2_user, card_number=BAD_CARD))

    # when: even the right factors
    with pytest.raises(DomainError) as excinfo:
        services.verify_level_three(user=l2_user, **_factors(l2_user))

    # then
    assert excinfo.value.code == "l3_attempts_exhausted"


class FaceBackend:
    """A provider plugged in through settings (e.g. a live-face service)."""

    method = AssuranceMethod.FACE
    seen: list[dict] = []

    def verify(self, *, person, data) -> VerificationOutcome:
        FaceBackend.seen.append(data)
        return VerificationOutcome(True)


def test_the_provider_is_pluggable(l2_user, settings) -> None:
    settings.IDENTITY_L3_BACKEND = "tests.identity.test_levels.FaceBackend"
    person = services.verify_level_three(user=l2_user, **_factors(l2_user, card_number="0"))
    assert person.assurance_level == AssuranceLevel.L3
    assert person.level_raises.latest("created_at").method == AssuranceMethod.FACE
    assert FaceBackend.seen[-1]["name"] == "冯晓丽"


# --- L3: the page, and returning to the sign-in -----------------------------------------------


def test_level_three_page_raises_and_returns_to_next(
    client, l2_user, django_assert_max_num_queries
) -> None:
    # given
    client.force_login(l2_user)
    # session, user, person
    with django_assert_max_num_queries(3):
        page = client.get("/accounts/profile/level3/", {"next": NEXT})
    html = page.content.decode()
    assert "实人认证（L3）" in html
    assert "银行卡四要素认证" in html
    assert 'name="next"' in html

    # when
    response = client.post("/accounts/profile/level3/", {**_factors(l2_user), "next": NEXT})

    # then
    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert Person.objects.get(user=l2_user).assurance_level == AssuranceLevel.L3


def test_level_three_page_refuses_with_a_chinese_message(client, l2_user) -> None:
    client.force_login(l2_user)
    response = client.post("/accounts/profile/level3/", _factors(l2_user, card_number="1234 5678"))
    assert response.status_code == 400
    assert "银行卡号应为16至19位数字" in response.content.decode()
    response = client.post("/accounts/profile/level3/", _factors(l2_user, card_number=BAD_CARD))
    assert response.status_code == 400
    assert "银行卡号校验不通过" in response.content.decode()


def test_an_offsite_next_is_ignored(client, l2_user) -> None:
    client.force_login(l2_user)
    response = client.post(
        "/accounts/profile/level3/", {**_factors(l2_user), "next": "https://evil.example/x"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/#level"


def test_profile_honours_next_for_the_real_name_check(client) -> None:
    # given: an L1 person sent by the step-up page
    user = PersonFactory(phone=PHONE).user
    id_number = PopulationRecordFactory(name="冯晓丽").id_number
    client.force_login(user)
    page = client.get("/accounts/profile/", {"next": NEXT}).content.decode()
    assert "提升实名等级后将返回您正在进行的登录" in page
    assert 'name="next"' in page

    # when
    response = client.post(
        "/accounts/profile/verify/", {"name": "冯晓丽", "id_number": id_number, "next": NEXT}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == NEXT


def test_profile_of_an_l2_person_links_to_the_l3_page(client, l2_user) -> None:
    client.force_login(l2_user)
    html = client.get("/accounts/profile/", {"next": NEXT}).content.decode()
    assert 'href="/accounts/profile/level3/?next=%2Fo%2Fauthorize%2F' in html


# --- L4: face to face at the window -----------------------------------------------------------


def _identify(client, clerk, user) -> None:
    client.force_login(clerk)
    response = client.post(
        "/office/identify/", {"id_number": user.person.id_number, "name": user.person.name}
    )
    assert response.status_code == 302


def test_clerk_verifies_in_person_and_raises_to_l4(client, clerk, l2_user) -> None:
    # given: the clerk identified the person by ID number + name
    _identify(client, clerk, l2_user)
    html = client.get("/office/identify/").content.decode()
    assert "当面核验（提升为 L4）" in html

    # when
    response = client.post("/office/identify/verify-in-person/", {"confirmed": "on"})

    # then
    assert response.status_code == 302
    person = Person.objects.get(user=l2_user)
    assert person.assurance_level == AssuranceLevel.L4
    last = person.level_raises.latest("created_at")
    assert (last.method, last.raised_by) == (AssuranceMethod.WINDOW, clerk)
    event = AuditEvent.objects.get(action="identity.level_raised")
    assert event.actor_id == clerk.pk
    assert event.data == {"level": 4, "method": "window"}
    assert "申请人已达到 L4" in client.get("/office/identify/").content.decode()


def test_in_person_check_must_be_confirmed(client, clerk, l2_user) -> None:
    _identify(client, clerk, l2_user)
    response = client.post("/office/identify/verify-in-person/", {})
    assert response.status_code == 400
    assert "请先当面核对申请人本人与居民身份证原件" in response.content.decode()
    assert Person.objects.get(user=l2_user).assurance_level == AssuranceLevel.L2


def test_in_person_check_needs_someone_identified_and_a_clerk(client, clerk, l2_user) -> None:
    # nobody identified yet: back to the identify screen, nothing raised
    client.force_login(clerk)
    response = client.post("/office/identify/verify-in-person/", {"confirmed": "on"})
    assert response.status_code == 302
    assert Person.objects.get(user=l2_user).assurance_level == AssuranceLevel.L2
    # a citizen cannot use the screen
    client.force_login(l2_user)
    assert client.post("/office/identify/verify-in-person/", {"confirmed": "on"}).status_code == 403


def test_service_refuses_non_clerks_and_self_verification(clerk, l2_user) -> None:
    with pytest.raises(DomainError) as excinfo:
        services.verify_in_person_at_window(clerk=l2_user, subject=clerk)
    assert excinfo.value.code == "not_clerk"
    with pytest.raises(DomainError) as excinfo:
        services.verify_in_person_at_window(clerk=clerk, subject=clerk)
    assert excinfo.value.code == "self_verification"
