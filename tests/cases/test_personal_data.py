"""Personal data in application forms: encrypted at rest, masked on screens and in the
department API unless the client holds ``cases:pii`` (every release audited), still whole in
the hand-off payload; a pg_dump after an online application holds no plaintext number."""

import pytest

from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.cases import personal, services
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.identity.pii import mask_id_number, mask_phone
from tests.cases.factories import FORM, case_in, citizen, clerk_of, draft, item_version, reviewer_of
from tests.dumps import pg_dump
from tests.identity.factories import ApiClientFactory, issue_token

pytestmark = pytest.mark.django_db

ID_NUMBER = FORM["id_number"]  # 11010519491231002X
MOBILE = FORM["mobile"]  # 13800138000


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def accepted(department):
    return case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )


def raw_row(case: Case) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT form_data::text, form_personal FROM cases_case WHERE id = %s", [case.pk]
        )
        return cursor.fetchone()


def test_personal_fields_are_encrypted_at_rest_and_whole_for_the_service(accepted) -> None:
    form_data, form_personal = raw_row(accepted)
    # the clear JSON holds no personal field, the encrypted column no plaintext
    assert ID_NUMBER not in form_data
    assert MOBILE not in form_data
    assert form_personal.startswith("fernet:")
    assert ID_NUMBER not in form_personal
    assert MOBILE not in form_personal
    # the service still sees the whole form (validation, hand-off)
    case = Case.objects.get(pk=accepted.pk)
    assert personal.full_form(case)["id_number"] == ID_NUMBER
    assert personal.full_form(case)["applicant_name"] == "张伟"
    masked = personal.masked_form(case)
    assert masked["id_number"] == mask_id_number(ID_NUMBER) == "1101**********002X"
    assert masked["mobile"] == mask_phone(MOBILE)


def test_hand_off_payload_carries_the_whole_form(accepted) -> None:
    from apps.handoffs.models import Handoff

    handoff = Handoff.objects.get(subject_id=str(accepted.pk), event="case.accepted")
    assert handoff.payload["form"]["id_number"] == ID_NUMBER
    assert handoff.payload["form"]["mobile"] == MOBILE


def test_screens_show_the_numbers_masked(accepted, department) -> None:
    citizen_page = logged_in(accepted.applicant_user).get(
        reverse("cases:detail", args=[accepted.pk])
    )
    office_page = logged_in(clerk_of(department)).get(
        reverse("office-cases:case", args=[accepted.pk])
    )
    for page in (citizen_page, office_page):
        html = page.content.decode()
        assert 'data-testid="form-rows"' in html
        assert mask_id_number(ID_NUMBER) in html
        assert mask_phone(MOBILE) in html
        assert ID_NUMBER not in html
        assert MOBILE not in html


def test_the_applicants_own_draft_form_shows_the_whole_number(department) -> None:
    applicant = citizen()
    case = draft(item_version(department), applicant)
    html = logged_in(applicant).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'value="{ID_NUMBER}"' in html


def test_department_api_masks_unless_the_client_holds_the_pii_scope(accepted, department) -> None:
    url = reverse("api:cases-detail", args=[accepted.pk])
    api_client = ApiClientFactory(department=department)
    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(api_client, 'cases:read').token}")
    released = AuditEvent.objects.filter(action="cases.form_personal_released")
    # without the scope on the token: masked, nothing released
    form = plain.get(url).json()["form"]
    assert form["id_number"] == mask_id_number(ID_NUMBER)
    assert form["mobile"] == mask_phone(MOBILE)
    assert not released.exists()
    # with it: in clear, and the release audited (client, case, fields)
    token = issue_token(api_client, "cases:read cases:pii").token
    full = APIClient()
    full.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    form = full.get(url).json()["form"]
    assert (form["id_number"], form["mobile"]) == (ID_NUMBER, MOBILE)
    event = released.get()
    assert event.object_id == str(accepted.pk)
    assert event.data["api_client"] == api_client.pk
    assert event.data["fields"] == ["id_number", "mobile"]
    # a client no longer allowed the scope gets masked data even with an old token
    api_client.allowed_scopes = "cases:read"
    api_client.save()
    assert full.get(url).json()["form"]["id_number"] == mask_id_number(ID_NUMBER)
    assert released.count() == 1


@pytest.mark.django_db(transaction=True)
def test_pg_dump_after_an_online_application_holds_no_plaintext_number(department) -> None:
    # given: a citizen applies online (draft, materials, submit) and the clerk accepts - committed
    version = item_version(department)
    applicant = citizen()
    case = draft(version, applicant)
    services.submit_case(case_id=case.pk, actor=CaseActor.of(applicant))
    services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk_of(department)))
    case.refresh_from_db()
    assert personal.full_form(case)["id_number"] == ID_NUMBER
    # when
    dump = pg_dump()
    # then: the case row, its events, the hand-off payload and the audit chain hold neither
    # number in clear
    assert "COPY public.cases_case " in dump
    assert ID_NUMBER not in dump
    assert MOBILE not in dump


def test_admin_shows_the_personal_fields_masked_only(accepted) -> None:
    from tests.catalog.factories import superuser

    client = logged_in(superuser())
    page = client.get(reverse("admin:cases_case_change", args=[accepted.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert mask_id_number(ID_NUMBER) in html
    assert ID_NUMBER not in html
    assert MOBILE not in html
