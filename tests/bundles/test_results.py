"""补正 answered on the bundle page, and 统一出件: every child's result and licence listed
together, the applicant's delivery choice, the window handing all results over at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.bundles import services
from apps.bundles.constants import ApplicationStatus, DeliveryMethod
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.permissions import CaseActor
from apps.core.exceptions import DomainError
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.cases.factories import citizen, clerk_of, pdf, reviewer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(department, django_capture_on_commit_callbacks) -> BundleApplication:
    version = published_birth_bundle(department)
    with django_capture_on_commit_callbacks(execute=True):
        return services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )


def _child(application: BundleApplication, key: str) -> BundleChild:
    return BundleChild.objects.select_related("case").get(
        application=application, component__key=key
    )


def _ask_supplement(child: BundleChild) -> None:
    case_services.request_supplement(
        case_id=child.case_id,
        actor=CaseActor.of(clerk_of(child.case.department)),
        items=[{"key": "application", "reason": "申请表缺少签名"}],
        due_days=5,
    )


def _decide_and_complete(child: BundleChild, **result: Any) -> None:
    department = child.case.department
    window, dept = CaseActor.of(clerk_of(department)), CaseActor.of(reviewer_of(department))
    if child.case.status != CaseStatus.ACCEPTED:
        case_services.accept_case(case_id=child.case_id, actor=window)
    case_services.start_review(case_id=child.case_id, actor=dept)
    case_services.decide_case(
        case_id=child.case_id, actor=dept, decision=Decision.APPROVED, result_data=result
    )
    case_services.complete_case(case_id=child.case_id, actor=dept)


def test_supplement_is_seen_and_answered_on_the_bundle_page(
    client, application, django_assert_max_num_queries
) -> None:
    # given: the hospital's window asks for a signed application form
    cert = _child(application, "cert")
    _ask_supplement(cert)
    client.force_login(application.applicant_user)
    url = reverse("bundles:application", args=[application.pk])
    # session, user, application + version, edges, children (components, cases), open
    # notices: one query each, however many children
    with django_assert_max_num_queries(8):
        response = client.get(url)
    page = response.content.decode()
    assert "需要您补正材料" in page
    assert "申请表缺少签名" in page
    action = reverse("bundles:supplement", args=[application.pk, cert.pk])
    assert f'action="{action}"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page
    # when: the file is left out
    response = client.post(action, {"note": "补"}, follow=True)
    # then: a Chinese error naming the material, nothing changed
    assert "请上传以下补正材料：申请表" in response.content.decode()
    assert _child(application, "cert").case.status == CaseStatus.AWAITING_SUPPLEMENT
    # when: answered with the file, from the bundle page
    response = client.post(action, {"application": pdf(), "note": "已签名"})
    # then: the child case is supplemented through its own timeline and audited
    assert response.status_code == 302
    assert response.url.endswith(f"#child-{cert.pk}")
    assert _child(application, "cert").case.status == CaseStatus.SUPPLEMENTED
    assert AuditEvent.objects.filter(action="bundles.supplement_answered").count() == 1
    page = client.get(url).content.decode()
    assert "需要您补正材料" not in page


def test_supplement_of_someone_elses_bundle_is_refused(client, application) -> None:
    cert = _child(application, "cert")
    _ask_supplement(cert)
    client.force_login(citizen("李四"))
    action = reverse("bundles:supplement", args=[application.pk, cert.pk])
    assert client.post(action, {"application": pdf()}).status_code == 404
    with pytest.raises(DomainError):
        services.answer_child_supplement(
            application_id=application.pk,
            child_id=cert.pk,
            user=citizen("王五"),
            files={"application": pdf()},
        )
    assert _child(application, "cert").case.status == CaseStatus.AWAITING_SUPPLEMENT


def test_results_are_listed_together_and_delivered_at_once(
    client, application, django_assert_max_num_queries, django_capture_on_commit_callbacks
) -> None:
    # given: the applicant wants the results by post
    client.force_login(application.applicant_user)
    url = reverse("bundles:application", args=[application.pk])
    response = client.post(
        reverse("bundles:delivery", args=[application.pk]),
        {"delivery_method": DeliveryMethod.POST, "delivery_address": ""},
        follow=True,
    )
    assert "选择邮寄送达时请填写邮寄地址" in response.content.decode()
    client.post(
        reverse("bundles:delivery", args=[application.pk]),
        {"delivery_method": DeliveryMethod.POST, "delivery_address": "南昌市红谷滩区丰和中大道1号"},
    )
    application.refresh_from_db()
    assert application.delivery_method == DeliveryMethod.POST
    # when: every child is decided and completed by its department, in graph order
    for key in ("cert", "hukou", "insurance"):
        with django_capture_on_commit_callbacks(execute=True):
            _decide_and_complete(_child(application, key), certificate_no="Q360100001")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CONCLUDED
    # then: one results section lists each child's result, with the licence where one is issued
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    results = page[page.index('id="results"') :]
    for name in ("出生医学证明办理", "出生登记", "城乡居民医保参保登记"):
        assert name in results
    licence = _child(application, "cert").case.result_data["licence"]["identifier"]
    assert licence in results
    assert "全部办结后一次邮寄送达" in results
    # when: the comprehensive window hands everything over at once
    clerk = clerk_of(application.children.first().case.department)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("office-bundles:deliver", args=[application.pk]))
    assert response.status_code == 403  # the applicant is not a window clerk
    client.force_login(clerk)
    with django_assert_max_num_queries(8):
        screen = client.get(reverse("office-bundles:application", args=[application.pk]))
    assert "统一出件（各子事项结果一并送达）" in screen.content.decode()
    response = client.post(reverse("office-bundles:deliver", args=[application.pk]))
    assert response.status_code == 302
    # then: every child case is delivered, the bundle is marked, and the applicant sees it
    statuses = {c.case.status for c in application.children.select_related("case")}
    assert statuses == {CaseStatus.DELIVERED}
    application.refresh_from_db()
    assert application.results_delivered_by == clerk
    client.force_login(application.applicant_user)
    assert "全部结果已于" in client.get(url).content.decode()
    with pytest.raises(DomainError, match="结果已统一送达"):
        services.deliver_bundle_results(application_id=application.pk, clerk=clerk)


def test_results_cannot_be_delivered_while_children_are_in_progress(application) -> None:
    clerk = clerk_of(application.children.first().case.department)
    with pytest.raises(DomainError, match="全部办结后才能统一出件"):
        services.deliver_bundle_results(application_id=application.pk, clerk=clerk)
    application.refresh_from_db()
    assert application.results_delivered_at is None


def test_delivery_choice_at_submission(department, django_capture_on_commit_callbacks) -> None:
    version = published_birth_bundle(department)
    with pytest.raises(DomainError, match="邮寄地址"):
        services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
            delivery_method=DeliveryMethod.POST,
        )
    assert not BundleApplication.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
            delivery_method=DeliveryMethod.WALLET,
        )
    assert application.delivery_method == DeliveryMethod.WALLET


def _decide_only(child: BundleChild, **result: Any) -> None:
    department = child.case.department
    window, dept = CaseActor.of(clerk_of(department)), CaseActor.of(reviewer_of(department))
    case_services.accept_case(case_id=child.case_id, actor=window)
    case_services.start_review(case_id=child.case_id, actor=dept)
    case_services.decide_case(
        case_id=child.case_id, actor=dept, decision=Decision.APPROVED, result_data=result
    )


def test_wallet_delivery_delivers_each_issued_licence_as_it_is_completed(
    application, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # given: the applicant wants each licence in the wallet as it is issued
    user = application.applicant_user
    services.choose_bundle_delivery(
        application_id=application.pk, user=user, method=DeliveryMethod.WALLET
    )
    cert = _child(application, "cert")
    # when: the hospital decides (the 出生医学证明 licence is issued) but has not 办结 yet
    with django_capture_on_commit_callbacks(execute=True):
        _decide_only(cert, certificate_no="Q360100009")
    cert.case.refresh_from_db()
    assert cert.case.status == CaseStatus.DECIDED
    assert "licence" in cert.case.result_data
    # then: nothing is delivered before 办结, and the sweeper has nothing to deliver
    assert services.sweep_bundle_applications() == 0
    # when: it completes later from its own screen (no orchestration pass runs)
    department = cert.case.department
    case_services.complete_case(case_id=cert.case_id, actor=CaseActor.of(reviewer_of(department)))
    enqueued: list[int] = []
    monkeypatch.setattr("apps.bundles.services.lifecycle.enqueue_advance", enqueued.append)
    # then: the sweeper finds it, and the orchestration pass delivers it to the wallet at once
    assert services.sweep_bundle_applications() == 1
    assert enqueued == [application.pk]
    services.advance_bundle_application(application_id=application.pk)
    cert.case.refresh_from_db()
    assert cert.case.status == CaseStatus.DELIVERED
    assert cert.case.events.filter(action="deliver", data__method="wallet").exists()
    audit = AuditEvent.objects.get(action="bundles.result_to_wallet")
    assert audit.data["case_id"] == cert.case_id
    # and the rest of the bundle goes on; a second pass delivers nothing twice
    services.advance_bundle_application(application_id=application.pk)
    assert AuditEvent.objects.filter(action="bundles.result_to_wallet").count() == 1
    assert services.sweep_bundle_applications() == 0
    hukou = _child(application, "hukou")
    assert hukou.case is not None
    # and a child without a licence (出生登记) stays for the window's 统一出件
    with django_capture_on_commit_callbacks(execute=True):
        _decide_and_complete(hukou)
    hukou.case.refresh_from_db()
    assert hukou.case.status == CaseStatus.COMPLETED


def test_other_delivery_methods_leave_issued_licences_to_the_window(
    application, django_capture_on_commit_callbacks
) -> None:
    cert = _child(application, "cert")
    with django_capture_on_commit_callbacks(execute=True):
        _decide_and_complete(cert, certificate_no="Q360100010")
    cert.case.refresh_from_db()
    assert cert.case.status == CaseStatus.COMPLETED
    assert not AuditEvent.objects.filter(action="bundles.result_to_wallet").exists()
