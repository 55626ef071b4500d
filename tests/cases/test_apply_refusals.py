"""A refused step loses nothing: the citizen's typed values stay, and the refusal names the
field by its label (申请人姓名, 联系电话), never by its internal name."""

from __future__ import annotations

import pytest

from django.test import Client
from django.urls import reverse

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from tests.cases.factories import FORM, citizen, item_version, pdf

pytestmark = pytest.mark.django_db


def test_a_refused_submission_names_fields_by_label_and_keeps_what_was_typed(department) -> None:
    # given: a draft with a wrong mobile number and every material uploaded
    version = item_version(department)
    applicant = citizen()
    client = Client()
    client.force_login(applicant)
    apply_url = reverse("cases:apply", args=[version.implementation_code])
    client.post(apply_url, {**FORM, "mobile": "12345", "agree": "on"})
    case = Case.objects.get(acting_user=applicant)
    for slot in version.materials.all():
        client.post(reverse("cases:upload", args=[case.pk]), {"slot": slot.key, "file": pdf()})

    # when
    response = client.post(reverse("cases:submit", args=[case.pk]), follow=True)

    # then: refused, by the field's label; the typed values are still in the form
    html = response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    assert "联系电话：请输入11位手机号码" in html
    assert "mobile：" not in html
    assert 'value="12345"' in html
    assert 'value="张伟"' in html


def test_each_material_slot_says_which_files_it_takes(department) -> None:
    # given: a draft
    version = item_version(department)
    applicant = citizen()
    client = Client()
    client.force_login(applicant)
    client.post(reverse("cases:apply", args=[version.implementation_code]), {**FORM, "agree": "on"})
    case = Case.objects.get(acting_user=applicant)

    # when
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()

    # then: the types and the size limit in words, and the file picker restricted to them
    assert "JPG、PDF、PNG" in html
    assert "20 MB" in html
    assert 'accept="application/pdf,image/jpeg,image/png"' in html
