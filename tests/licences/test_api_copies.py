"""加注件 over the department API and file verification over the public API."""

from datetime import timedelta

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.licences.models import AnnotatedCopy, LicenceUse, VerificationRecord
from apps.licences.services import LicenceActor, change_licence_status, grant_use_authorisation
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence
from tests.licences.test_api import client_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder():
    return verified_user("贺兰")


@pytest.fixture
def licence(department, holder):
    return person_licence(department, holder=holder)


@pytest.fixture
def user_client(other_department, holder, licence):
    """A using department (not the issuer) that the holder authorised for this licence."""
    grant_use_authorisation(
        user=holder,
        department=other_department,
        purpose="租房备案",
        expires_at=timezone.now() + timedelta(days=5),
        licence=licence,
    )
    return client_with(other_department, "licences:read")


def _issue(client, licence, body=None, **headers):
    return client.post(
        reverse("api:licences-copy-issue", args=[licence.identifier]),
        body if body is not None else {"purpose": "租房备案", "valid_days": 10},
        format="json",
        **headers,
    )


def test_authorised_department_gets_a_copy_once_per_key_and_the_holder_sees_the_use(
    user_client, licence, other_department, django_assert_max_num_queries
):
    # when: the same request twice with one Idempotency-Key
    with django_assert_max_num_queries(34):
        first = _issue(user_client, licence, HTTP_IDEMPOTENCY_KEY="copy-00001")
    second = _issue(user_client, licence, HTTP_IDEMPOTENCY_KEY="copy-00001")

    # then: one copy, the same answer, a use record with the purpose for the holder's wallet
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    body = first.json()
    assert second.json()["id"] == body["id"]
    copy = AnnotatedCopy.objects.get()
    assert (body["identifier"], body["purpose"], body["expired"]) == (
        licence.identifier,
        "租房备案",
        False,
    )
    assert body["valid_until"] == (timezone.localdate() + timedelta(days=10)).isoformat()
    use = LicenceUse.objects.get()
    assert (use.department, use.purpose, use.basis, use.is_allowed) == (
        other_department,
        "租房备案",
        "authorisation",
        True,
    )
    assert copy.use == use
    assert licence.holder_code not in first.content.decode()


def test_copy_is_listed_downloaded_and_verifies_over_the_public_api(
    user_client, licence, django_assert_max_num_queries
):
    # given
    copy_id = _issue(user_client, licence).json()["id"]
    _issue(user_client, licence, {"purpose": "居住证办理"})

    # when: list (filtered by identifier), detail, file
    with django_assert_max_num_queries(4):
        listing = user_client.get(
            reverse("api:licences-copies"), {"identifier": licence.identifier}
        )
    with django_assert_max_num_queries(4):
        detail = user_client.get(reverse("api:licences-copy", args=[copy_id]))
    with django_assert_max_num_queries(4):
        download = user_client.get(reverse("api:licences-copy-file", args=[copy_id]))

    # then
    assert listing.status_code == 200
    assert [c["purpose"] for c in listing.json()["results"]] == ["居住证办理", "租房备案"]
    assert detail.json()["id"] == copy_id
    assert detail.json()["file"].endswith(reverse("api:licences-copy-file", args=[copy_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content) if download.streaming else download.content
    assert content.startswith(b"%PDF")

    # when: anyone handed the copy checks it
    with django_assert_max_num_queries(6):
        answer = APIClient().post(
            reverse("api:licences-verify"),
            {"file": SimpleUploadedFile("copy.pdf", content, "application/pdf")},
            format="multipart",
        )

    # then: valid, as a copy with its purpose and validity, logged without the verifier
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["valid"], data["reason"]) == (True, "valid")
    assert data["annotated_copy"]["purpose"] == "租房备案"
    record = VerificationRecord.objects.get()
    assert (record.channel, record.outcome, record.licence) == ("api_file", "valid", licence)


def test_a_copy_of_a_revoked_licence_no_longer_verifies(user_client, licence):
    content = bytes(AnnotatedCopy.objects.get(pk=_issue(user_client, licence).json()["id"]).content)
    change_licence_status(
        licence_id=licence.pk, actor=LicenceActor.system(), action="revoke", reason="违法"
    )
    answer = (
        APIClient()
        .post(
            reverse("api:licences-verify"),
            {"file": SimpleUploadedFile("copy.pdf", content, "application/pdf")},
            format="multipart",
        )
        .json()
    )
    assert (answer["valid"], answer["reason"]) == (False, "revoked")


def test_no_copy_for_a_revoked_licence(user_client, licence):
    change_licence_status(
        licence_id=licence.pk, actor=LicenceActor.system(), action="revoke", reason="违法"
    )
    response = _issue(user_client, licence)
    assert response.status_code == 400
    assert response.json()["code"] == "licence_not_valid"
    assert not AnnotatedCopy.objects.exists()


def test_a_department_without_basis_is_refused_recorded_and_audited(licence, other_department):
    # given: no case, no authorisation
    client = client_with(other_department, "licences:read")

    # when
    response = _issue(client, licence)

    # then: 403, a refused use the holder sees, an audit event, no copy
    assert response.status_code == 403
    assert not AnnotatedCopy.objects.exists()
    use = LicenceUse.objects.get()
    assert (use.is_allowed, use.basis) == (False, "none")
    assert AuditEvent.objects.filter(action="licences.use_refused").count() == 1


def test_an_authorisation_covers_its_holder_only(user_client, department):
    # given: another holder's licence of the same type (the grant names one licence)
    stranger = person_licence(department)

    # when
    response = _issue(user_client, stranger)

    # then
    assert response.status_code == 403
    assert not AnnotatedCopy.objects.exists()


def test_unknown_licence_is_a_404_and_audited(user_client):
    response = user_client.post(
        reverse("api:licences-copy-issue", args=["1.2.156.3005.2.NOPE"]),
        {"purpose": "租房备案"},
        format="json",
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="licences.access_refused").count() == 1


def test_another_departments_copies_are_invisible_and_refusals_audited(
    user_client, licence, department
):
    # given: the issuing department's own client (a third party to this copy)
    copy_id = _issue(user_client, licence).json()["id"]
    issuer = client_with(department, "licences:read licences:write")

    # when
    listing = issuer.get(reverse("api:licences-copies"))
    detail = issuer.get(reverse("api:licences-copy", args=[copy_id]))
    download = issuer.get(reverse("api:licences-copy-file", args=[copy_id]))

    # then
    assert listing.json()["results"] == []
    assert (detail.status_code, download.status_code) == (404, 404)
    refused = AuditEvent.objects.filter(action="licences.access_refused")
    assert refused.count() == 2
    assert {e.data["identifier"] for e in refused} == {f"copy:{copy_id}"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "purpose"),
        ({"purpose": "   "}, "purpose"),
        ({"purpose": "长" * 201}, "purpose"),
        ({"purpose": "租房", "valid_days": 0}, "valid_days"),
        ({"purpose": "租房", "valid_days": 91}, "valid_days"),
        ({"purpose": "租房", "case": "abc"}, "case"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(user_client, licence, body, field):
    response = _issue(user_client, licence, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not LicenceUse.objects.exists()
    assert not AnnotatedCopy.objects.exists()


def test_copies_need_the_licences_read_scope(licence, other_department):
    client = client_with(other_department, "cases:read")
    assert _issue(client, licence).status_code == 403
    assert client.get(reverse("api:licences-copies")).status_code == 403
    assert not LicenceUse.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "file"),
        ({"file": SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024))}, "file"),
    ],
)
def test_verify_file_needs_a_file_of_at_most_5_mb(db, data, field):
    response = APIClient().post(reverse("api:licences-verify"), data, format="multipart")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not VerificationRecord.objects.exists()


def test_verify_file_refuses_a_file_that_was_not_sealed_here(db):
    response = APIClient().post(
        reverse("api:licences-verify"),
        {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7 not ours", "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert VerificationRecord.objects.get().outcome == "invalid"
