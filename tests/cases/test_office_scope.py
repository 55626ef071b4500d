"""Who sees which cases in the office: the clerk's hall plus online cases, the whole department
on request, and supervisors read-only across their region subtree (docs/permissions.md)."""

import pytest

from django.test import Client
from django.urls import reverse

from apps.cases import services
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.permissions import region_prefix
from apps.core.models import Region, RegionLevel, ServiceHall
from apps.identity.constants import StaffRole
from tests.cases.factories import FORM, case_in, citizen, item_version, reviewer_of
from tests.core.factories import DepartmentFactory, RegionFactory
from tests.identity.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def numbers(response) -> set[str]:
    html = response.content.decode()
    return {number for number in Case.objects.values_list("number", flat=True) if number in html}


def hall(code: str, region) -> ServiceHall:
    return ServiceHall.objects.create(
        name=f"{code}政务服务中心", code=code, region=region, level=3, address="南昌"
    )


@pytest.fixture
def scene(department):
    version = item_version(department)
    hall_a, hall_b = hall("HA", department.region), hall("HB", department.region)
    clerk_a = StaffMembershipFactory(department=department, role=StaffRole.CLERK, hall=hall_a)
    clerk_b = StaffMembershipFactory(department=department, role=StaffRole.CLERK, hall=hall_b)

    def walk_in(membership) -> Case:
        return services.create_window_case(
            clerk=membership.user,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card", "application"],
            hall=membership.hall,
        )

    online = case_in(
        CaseStatus.SUBMITTED,
        version=version,
        applicant=citizen(),
        clerk=clerk_a.user,
        reviewer=reviewer_of(department),
    )
    return {
        "version": version,
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "at_a": walk_in(clerk_a),
        "at_b": walk_in(clerk_b),
        "online": online,
    }


def test_queue_shows_the_clerks_hall_and_online_cases_and_all_on_request(scene) -> None:
    client = logged_in(scene["clerk_a"].user)
    # every case in process (全部在办): the default to-do view hides the accepted walk-ins
    url = reverse("office-cases:queue") + "?status=live"
    # by default: walk-in cases of the clerk's hall plus the department's online cases
    assert numbers(client.get(url)) == {scene["at_a"].number, scene["online"].number}
    # the other hall's clerk sees their own hall instead
    assert numbers(logged_in(scene["clerk_b"].user).get(url)) == {
        scene["at_b"].number,
        scene["online"].number,
    }
    # "本部门全部办件": every case of the department
    assert numbers(client.get(url, {"scope": "all", "status": "live"})) == {
        scene["at_a"].number,
        scene["at_b"].number,
        scene["online"].number,
    }
    # and the other hall's case is still open to the clerk (department staff)
    assert client.get(reverse("office-cases:case", args=[scene["at_b"].pk])).status_code == 200


def test_a_clerk_without_a_hall_sees_the_whole_department(scene, department) -> None:
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN)
    assert numbers(logged_in(admin.user).get(reverse("office-cases:queue"))) == {
        scene["at_a"].number,
        scene["at_b"].number,
        scene["online"].number,
    }


def test_intake_records_the_clerks_hall(scene) -> None:
    applicant = citizen("王五")
    clerk = scene["clerk_a"]
    client = logged_in(clerk.user)
    url = reverse("office-cases:intake")
    code = scene["version"].implementation_code
    client.post(url, {"step": "identify", "id_number": applicant.person.id_number, "name": "王五"})
    response = client.post(
        url,
        {
            "step": "accept",
            "item": code,
            "received": ["id-card", "application"],
            **FORM,
            "agree": "on",
        },
    )
    case = Case.objects.get(applicant_user=applicant)
    assert response.status_code == 302
    assert case.hall_id == clerk.hall_id
    assert case.channel == "window"


@pytest.fixture
def regions():
    province = RegionFactory()  # 360000 江西省
    nanchang = Region.objects.create(
        code="360100", name="南昌市", level=RegionLevel.CITY, parent=province
    )
    donghu = Region.objects.create(
        code="360102", name="东湖区", level=RegionLevel.COUNTY, parent=nanchang
    )
    jiujiang = Region.objects.create(
        code="360400", name="九江市", level=RegionLevel.CITY, parent=province
    )
    return {"province": province, "nanchang": nanchang, "donghu": donghu, "jiujiang": jiujiang}


def test_region_prefix() -> None:
    assert region_prefix("360000") == "36"
    assert region_prefix("360100") == "3601"
    assert region_prefix("360102") == "360102"
    assert region_prefix("360102001") == "360102001"


def test_supervisor_reads_across_the_region_subtree_and_acts_on_nothing(regions) -> None:
    # given a case of a county department (东湖区) waiting at the window
    county = DepartmentFactory(name="东湖区市场监督管理局", region=regions["donghu"], level=4)
    version = item_version(county)
    case = case_in(
        CaseStatus.SUBMITTED,
        version=version,
        applicant=citizen(),
        clerk=StaffMembershipFactory(department=county, role=StaffRole.CLERK).user,
        reviewer=reviewer_of(county),
    )
    city_dept = DepartmentFactory(name="南昌市政务服务管理局", region=regions["nanchang"], level=3)
    supervisor = StaffMembershipFactory(department=city_dept, role=StaffRole.SUPERVISOR).user
    other_city = DepartmentFactory(name="九江市政务服务管理局", region=regions["jiujiang"], level=3)
    outsider = StaffMembershipFactory(department=other_city, role=StaffRole.SUPERVISOR).user
    client = logged_in(supervisor)
    screen = reverse("office-cases:case", args=[case.pk])

    # when / then: the Nanchang supervisor sees the county case in the queue and on its screen
    assert case.number in client.get(reverse("office-cases:queue")).content.decode()
    page = client.get(screen)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="action-panel"' not in html
    assert "当前状态下没有您可执行的操作" in html
    material = case.materials.first()
    assert client.get(reverse("cases:material", args=[material.pk])).status_code == 200
    # but may not act: the service refuses and nothing changes
    client.post(reverse("office-cases:action", args=[case.pk, "accept"]))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    # and a supervisor of another city sees nothing of it
    other = logged_in(outsider)
    assert other.get(screen).status_code == 404
    assert case.number not in other.get(reverse("office-cases:queue")).content.decode()
