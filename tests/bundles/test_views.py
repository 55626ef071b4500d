"""The citizen pages: guide with questions, one form, progress; query counts pinned."""

from __future__ import annotations

import pytest

from django.urls import reverse

from apps.bundles.models import BundleApplication
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.cases.factories import citizen

pytestmark = pytest.mark.django_db


def test_list_page(client, department, django_assert_max_num_queries) -> None:
    version = published_birth_bundle(department)
    # versions with bundle, department, theme (1) + session-less request
    with django_assert_max_num_queries(3):
        response = client.get(reverse("bundles:list"))
    assert response.status_code == 200
    assert version.name in response.content.decode()


def test_guide_shows_what_applies_as_questions_are_answered(
    client, department, django_assert_max_num_queries
) -> None:
    version = published_birth_bundle(department)
    url = reverse("bundles:guide", args=[version.bundle.code])
    # version (1) + prefetches: partners, questions, edges, outputs, fields, targets,
    # materials, targets, components, item materials (10) + margin
    with django_assert_max_num_queries(14):
        response = client.get(url)
    page = response.content.decode()
    assert "是否需要为新生儿办理社会保障卡？" in page
    assert "社会保障卡申领" not in page
    assert "开始申请（一表填写）" not in page
    # when: answered
    with django_assert_max_num_queries(14):
        response = client.get(url, {"needs_ssc": "yes"})
    page = response.content.decode()
    assert "社会保障卡申领" in page
    assert "开始申请（一表填写）" in page
    assert "在“出生医学证明办理”办结后自动开始" in page


def test_apply_and_progress(
    client, department, django_assert_max_num_queries, django_capture_on_commit_callbacks
) -> None:
    # given
    version = published_birth_bundle(department)
    user = citizen()
    client.force_login(user)
    url = reverse("bundles:apply", args=[version.bundle.code])
    response = client.get(url, {"needs_ssc": "no"})
    assert response.status_code == 200
    assert 'name="a_needs_ssc" value="no"' in response.content.decode()
    # when: one submission
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"a_needs_ssc": "no", **FORM, **files_for(version)})
    # then
    application = BundleApplication.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("bundles:application", args=[application.pk])
    # session, user, application + version, children (with components, cases), edges
    with django_assert_max_num_queries(10):
        response = client.get(response.url)
    page = response.content.decode()
    assert "出生医学证明办理" in page
    assert "已提交部门" in page
    assert "等待“出生医学证明办理”办结后自动提交" in page


def test_apply_with_bad_input_shows_chinese_errors(client, department) -> None:
    version = published_birth_bundle(department)
    client.force_login(citizen())
    url = reverse("bundles:apply", args=[version.bundle.code])
    response = client.post(url, {"a_needs_ssc": "no", **{**FORM, "mobile": "123"}})
    assert response.status_code == 200
    assert "请输入11位手机号码" in response.content.decode()
    assert BundleApplication.objects.count() == 0


def test_progress_page_is_private(client, department, django_capture_on_commit_callbacks) -> None:
    version = published_birth_bundle(department)
    owner = citizen()
    from apps.bundles import services

    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=owner,
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )
    client.force_login(citizen("李四"))
    response = client.get(reverse("bundles:application", args=[application.pk]))
    assert response.status_code == 404
