"""Issue 15 §3: an applicant's unsubmitted draft is private. No staff role and no department
system sees it: not in queues, case screens, material downloads, the department API, the admin
or counts, and no staff capacity acts on it through the services."""

import pytest

from django.test import Client
from django.urls import reverse

from apps.cases import selectors, services
from apps.cases.constants import CaseStatus, MaterialStatus
from apps.cases.exceptions import CaseActionForbidden
from apps.cases.models import Case
from apps.cases.permissions import CaseActor, actor_kinds
from apps.core.models import ServiceHall
from apps.identity.constants import StaffRole
from tests.cases.factories import FORM, case_in, citizen, draft, item_version, reviewer_of
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["clerk", "clerk_at_hall", "reviewer", "dept_admin", "supervisor", "superuser"]


@pytest.fixture
def scene(department):
    version = item_version(department)
    applicant = citizen()
    hall = ServiceHall.objects.create(
        name="南昌政务服务中心", code="NC1", region=department.region, level=3, address="南昌"
    )
    clerk = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    # A supervisor of another department in the same region reads across departments.
    supervising = DepartmentFactory(name="南昌市政务服务管理局", region=department.region)
    staff = {
        "clerk": clerk,
        "clerk_at_hall": StaffMembershipFactory(
            department=department, role=StaffRole.CLERK, hall=hall
        ).user,
        "reviewer": reviewer_of(department),
        "dept_admin": StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user,
        "supervisor": StaffMembershipFactory(
            department=supervising, role=StaffRole.SUPERVISOR
        ).user,
        "superuser": UserFactory(admin=True),
    }
    # The superuser also holds an admin membership, the widest staff reach a person can have.
    StaffMembershipFactory(
        department=department, role=StaffRole.DEPT_ADMIN, user=staff["superuser"]
    )
    private = draft(version, applicant)
    submitted = case_in(
        CaseStatus.SUBMITTED,
        version=version,
        applicant=applicant,
        clerk=clerk,
        reviewer=staff["reviewer"],
    )
    return {"staff": staff, "draft": private, "submitted": submitted, "applicant": applicant}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_ids(response) -> set[int]:
    html = response.content.decode()
    return {
        pk for pk in Case.objects.values_list("pk", flat=True) if f"/office/cases/{pk}/" in html
    }


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_queue_never_lists_a_draft(scene, role, django_assert_max_num_queries) -> None:
    # given
    client = logged_in(scene["staff"][role])
    url = reverse("office-cases:queue")
    # when / then: default, every case of the department, and asking for drafts by name
    # (queries: session, user, memberships, supervised departments, the page of cases, +slack)
    with django_assert_max_num_queries(8):
        default = client.get(url)
    assert default.status_code == 200
    assert scene["draft"].pk not in row_ids(default)
    assert scene["draft"].pk not in row_ids(client.get(url, {"scope": "all"}))
    asked = client.get(url, {"status": CaseStatus.DRAFT})
    assert asked.status_code == 200
    assert row_ids(asked) == set()


def test_the_queue_lists_the_submitted_case_beside_the_hidden_draft(scene) -> None:
    response = logged_in(scene["staff"]["clerk"]).get(reverse("office-cases:queue"))
    assert row_ids(response) == {scene["submitted"].pk}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_a_draft_is_404_on_every_office_screen(scene, role) -> None:
    # given
    client = logged_in(scene["staff"][role])
    case = scene["draft"]
    material = case.materials.first()
    assert material is not None
    # when / then
    assert client.get(reverse("office-cases:case", args=[case.pk])).status_code == 404
    assert client.get(reverse("office-cases:case", args=[scene["submitted"].pk])).status_code == 200
    assert client.post(reverse("office-cases:action", args=[case.pk, "submit"])).status_code == 404
    assert (
        client.post(
            reverse("office-cases:material-check", args=[case.pk, material.pk]),
            {"status": MaterialStatus.ACCEPTED},
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("office-cases:notice", args=[case.pk, "supplement"])).status_code == 404
    )
    assert client.get(reverse("cases:material", args=[material.pk])).status_code == 404
    assert client.get(reverse("cases:notice", args=[case.pk, "supplement"])).status_code == 404
    # nothing changed
    material.refresh_from_db()
    assert material.status == MaterialStatus.PENDING
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT


def test_the_applicant_still_has_their_draft(scene) -> None:
    client = logged_in(scene["applicant"])
    material = scene["draft"].materials.first()
    assert client.get(reverse("cases:detail", args=[scene["draft"].pk])).status_code == 200
    assert client.get(reverse("cases:material", args=[material.pk])).status_code == 200


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_no_staff_capacity_acts_on_a_draft(scene, role) -> None:
    # given
    user = scene["staff"][role]
    case = scene["draft"]
    material = case.materials.first()
    # when / then
    assert actor_kinds(CaseActor.of(user), case) == set()
    with pytest.raises(CaseActionForbidden):
        services.submit_case(case_id=case.pk, actor=CaseActor.of(user))
    with pytest.raises(CaseActionForbidden):
        services.mark_material(
            material_id=material.pk, actor=CaseActor.of(user), status=MaterialStatus.ACCEPTED
        )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_selectors_hide_drafts_from_staff(scene, role) -> None:
    user = scene["staff"][role]
    queue = selectors.list_queue_for_clerk(
        user, selectors.QueueFilters(status=CaseStatus.DRAFT, scope="all")
    )
    assert queue.count() == 0
    assert not Case.objects.filter(selectors.queue_scope(user, "all"), status="draft").exists()
    with pytest.raises(selectors.Http404):
        selectors.get_case_for_staff(user=user, case_id=scene["draft"].pk)
    with pytest.raises(selectors.Http404):
        selectors.get_case_for_user(user=user, case_id=scene["draft"].pk)


def test_the_department_api_never_shows_a_draft(scene, dept_client, department) -> None:
    # given: the department's client, with every read scope
    case = scene["draft"]
    # when
    listed = dept_client.get(reverse("api:cases-list"))
    asked = dept_client.get(reverse("api:cases-list"), {"status": CaseStatus.DRAFT})
    detail = dept_client.get(reverse("api:cases-detail", args=[case.pk]))
    review = dept_client.post(reverse("api:cases-review", args=[case.pk]), {}, format="json")
    # then
    assert listed.status_code == 200
    assert case.pk not in [row["id"] for row in listed.json()["results"]]
    assert asked.status_code == 400
    assert asked.json()["code"] == "invalid"
    assert detail.status_code == 404
    assert review.status_code == 404
    assert selectors.list_cases_for_department(department.pk).filter(pk=case.pk).count() == 0
    assert actor_kinds(CaseActor.of_client(dept_client.api_client), case) == set()


def test_the_admin_shows_no_draft_to_a_superuser(scene) -> None:
    # given
    client = logged_in(scene["staff"]["superuser"])
    case = scene["draft"]
    material = case.materials.first()
    # when
    changelist = client.get(reverse("admin:cases_case_changelist"))
    change = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    materials = client.get(reverse("admin:cases_casematerial_changelist"))
    material_page = client.get(reverse("admin:cases_casematerial_change", args=[material.pk]))
    # then: the changelist counts only submitted cases; the draft's pages redirect away
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 1
    assert change.status_code == 302
    assert material_page.status_code == 302
    assert all(m.case_id != case.pk for m in materials.context["cl"].result_list)


def test_a_clerks_window_intake_still_works(department, clerk) -> None:
    # the window flow creates a draft inside the clerk's own transaction and submits it
    version = item_version(department)
    case = services.create_window_case(
        clerk=clerk,
        version=version,
        applicant_user=citizen(),
        form_data=FORM,
        received_keys=["id-card", "application"],
    )
    assert case.status == CaseStatus.ACCEPTED
