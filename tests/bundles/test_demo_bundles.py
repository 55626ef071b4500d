"""Every demo bundle, built from the demo catalogue, publishes; one 二手房 application hands the
utility transfers to the water, power, gas and network companies through the outbox.

Only the demo departments and the catalogue items the bundles use are loaded (not loaddemo)."""

from __future__ import annotations

from io import StringIO

import pytest

from apps.bundles import demo, services
from apps.bundles.constants import ChildState, VersionStatus
from apps.bundles.models import Bundle, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import Decision, MaterialSource
from apps.cases.permissions import CaseActor
from apps.catalog.demo import load_catalog_demo
from apps.core.demo import load_organisations, read_organisations
from apps.core.models import Department, RegionLevel
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole
from tests.cases.factories import PDF, citizen, clerk_of, reviewer_of
from tests.core.factories import RegionFactory
from tests.identity.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db

FORM = {
    "applicant_name": "张伟",
    "id_number": "11010519491231002X",
    "mobile": "13800138000",
    "agree": "on",
}
DEMO_CODES = {
    "newborn",
    "restaurant",
    "retirement",
    "after-death",
    "enterprise-change",
    "home-transfer",
}


@pytest.fixture
def demo_bundles() -> StringIO:
    """The demo organisations, the catalogue items the bundles need, and the bundles."""
    province = RegionFactory(code="360000", name="江西省", level=RegionLevel.PROVINCE)
    city = RegionFactory(code="360100", name="南昌市", level=RegionLevel.CITY, parent=province)
    for code, name in (("360121", "南昌县"), ("360113", "红谷滩区")):
        RegionFactory(code=code, name=name, level=RegionLevel.COUNTY, parent=city)
    load_organisations(data=read_organisations())
    load_catalog_demo(
        stdout=StringIO(),
        only_items={name for _uscc, name in demo.CATALOGUE_ITEMS},
        only_departments={uscc for uscc, _name in demo.CATALOGUE_ITEMS},
    )
    out = StringIO()
    demo.load_bundles_demo(stdout=out)
    return out


def test_every_demo_bundle_is_published_with_questions_edges_form_and_outputs(
    demo_bundles,
) -> None:
    # then: the six bundles, published, with nothing the publish checks would refuse
    assert "一件事: 新增 6 个，已存在 0 个" in demo_bundles.getvalue()
    bundles = {b.code: b for b in Bundle.objects.select_related("current_version")}
    assert set(bundles) == DEMO_CODES
    for code, bundle in bundles.items():
        version = bundle.current_version
        assert version.status == VersionStatus.PUBLISHED, code
        assert services.publish_problems(version) == [], code
        assert version.questions.exists(), code
        assert version.edges.exists(), code
        assert version.fields.filter(key="applicant_name").exists() or code in {
            "enterprise-change"
        }, code
        if code != "retirement":
            assert version.outputs.exists(), code
    # and: the enterprise bundle asks for the unit, the others for the person
    change = bundles["enterprise-change"].current_version
    assert change.fields.filter(key="uscc").exists()
    assert not change.fields.filter(key="id_number").exists()
    # and: the utility transfers wait for the property transfer and take its new certificate
    home = bundles["home-transfer"].current_version
    assert {(e.upstream, e.downstream) for e in home.edges.all()} == {
        ("transfer", "water"),
        ("transfer", "power"),
        ("transfer", "gas"),
        ("transfer", "network"),
    }
    assert not home.materials.filter(key="property-certificate", targets__component="gas")
    # when: loaded again, nothing changes
    again = StringIO()
    demo.load_bundles_demo(stdout=again)
    assert "一件事: 新增 0 个，已存在 6 个" in again.getvalue()


def test_home_transfer_hands_the_utility_transfers_to_the_companies_through_the_outbox(
    demo_bundles, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    version = Bundle.objects.get(code="home-transfer").current_version
    nr = Department.objects.get(uscc=demo.NR)
    utilities = list(Department.objects.filter(uscc__in=demo.UTILITIES))
    # given: a clerk at the 不动产登记 window where the four companies are stationed
    clerk = StaffMembershipFactory(department=nr, role=StaffRole.CLERK).user
    for company in utilities:
        StaffMembershipFactory(department=company, role=StaffRole.CLERK, user=clerk)
    files = {
        m.key: SimpleUploadedFile(f"{m.key}.pdf", PDF, content_type="application/pdf")
        for m in version.materials.all()
    }
    # when: the buyer applies once and the window accepts once
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"has_gas": "yes", "has_network": "yes"},
            form_data=FORM,
            files=files,
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_bundle_application(application_id=application.pk, clerk=clerk)
    children = {c.component.key: c for c in application.children.select_related("component")}
    assert set(children) == {"transfer", "water", "power", "gas", "network"}
    assert not Handoff.objects.filter(target_department__in=utilities).exists()
    # when: the registration centre decides the transfer (the new certificate is issued)
    transfer = BundleChild.objects.select_related("case").get(pk=children["transfer"].pk)
    reviewer = CaseActor.of(reviewer_of(nr))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.start_review(case_id=transfer.case_id, actor=reviewer)
        case_services.decide_case(
            case_id=transfer.case_id, actor=reviewer, decision=Decision.APPROVED
        )
    transfer.case.refresh_from_db()
    certificate = transfer.case.result_data["licence"]["identifier"]
    # then: each company's child case started with that certificate and went out to it
    for key in ("water", "power", "gas", "network"):
        child = BundleChild.objects.select_related("case").get(pk=children[key].pk)
        assert child.state == ChildState.SUBMITTED, child.last_error
        material = child.case.materials.get(slot_key="property-certificate", is_current=True)
        assert material.source == MaterialSource.LICENCE
        assert material.licence_identifier == certificate
    handoffs = Handoff.objects.filter(target_department__in=utilities, event="case.accepted")
    assert sorted(h.target_department.uscc for h in handoffs) == sorted(demo.UTILITIES)
    assert {h.subject_reference for h in handoffs} == {
        BundleChild.objects.get(pk=children[k].pk).case.number
        for k in ("water", "power", "gas", "network")
    }


def test_enterprise_change_passes_the_new_licence_to_tax_social_insurance_and_fund(
    demo_bundles, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.identity.factories import EnterpriseFactory

    # given: a company whose legal representative applies once for the whole change
    version = Bundle.objects.get(code="enterprise-change").current_version
    company = EnterpriseFactory()
    form = {
        "enterprise_name": company.name,
        "uscc": company.uscc,
        "contact_name": "张伟",
        "mobile": "13800138000",
        "agree_unit": "on",
    }
    files = {
        m.key: SimpleUploadedFile(f"{m.key}.pdf", PDF, content_type="application/pdf")
        for m in version.materials.all()
    }
    # when
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=company.legal_representative,
            version_id=version.pk,
            answers={"has_employees": "yes", "has_provident_fund": "no"},
            form_data=form,
            files=files,
            enterprise=company,
        )
    children = {c.component.key: c for c in application.children.select_related("component")}
    assert set(children) == {"registration", "tax", "social_insurance"}
    assert application.applicant_name == company.name
    # when: the market regulator registers the change (a new 营业执照 is issued)
    registration = BundleChild.objects.select_related("case").get(pk=children["registration"].pk)
    assert registration.case.enterprise_id == company.pk
    samr = registration.case.department
    with django_capture_on_commit_callbacks(execute=True):
        case_services.accept_case(case_id=registration.case_id, actor=CaseActor.of(clerk_of(samr)))
        reviewer = CaseActor.of(reviewer_of(samr))
        case_services.start_review(case_id=registration.case_id, actor=reviewer)
        case_services.decide_case(
            case_id=registration.case_id, actor=reviewer, decision=Decision.APPROVED
        )
    registration.case.refresh_from_db()
    licence = registration.case.result_data["licence"]["identifier"]
    # then: tax and social insurance start for the company with the new licence, not uploaded
    for key in ("tax", "social_insurance"):
        child = BundleChild.objects.select_related("case").get(pk=children[key].pk)
        assert child.state == ChildState.SUBMITTED, child.last_error
        assert child.case.enterprise_id == company.pk
        material = child.case.materials.get(slot_key="business-licence", is_current=True)
        assert (material.source, material.licence_identifier) == (MaterialSource.LICENCE, licence)


def test_home_page_bundle_links_lead_to_the_demo_bundles(client, demo_bundles) -> None:
    import re

    page = client.get("/").content.decode()
    links = set(re.findall(r'href="(/bundles/[a-z-]+/)"', page))
    assert len(links) == 5
    for link in sorted(links):
        response = client.get(link)
        assert response.status_code == 200, link
        assert "情形引导" in response.content.decode(), link


def test_a_demo_bundle_that_cannot_publish_is_reported_and_not_written(
    demo_bundles, monkeypatch
) -> None:
    # given: a demo catalogue older than the bundle expects (here: a cycle in the graph)
    def broken() -> dict:
        spec = demo._home_transfer()
        spec["code"] = "home-transfer-old"
        spec["edges"] = [*spec["edges"], ("water", "transfer")]
        return spec

    monkeypatch.setattr(demo, "BUILDERS", (broken,))
    out = StringIO()
    # when
    counts = demo.load_bundles_demo(stdout=out)
    # then: named in the output, nothing left behind, loaddemo goes on
    assert counts == {"bundles_created": 0, "bundles_existing": 0, "bundles_refused": 1}
    assert "二手房转移登记及水电气网联动过户 未能发布" in out.getvalue()
    assert not Bundle.objects.filter(code="home-transfer-old").exists()
