"""加注件: a sealed, watermarked copy for one use with its own validity."""

from datetime import timedelta

import pytest

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.licences import sealing
from apps.licences.models import AnnotatedCopy, LicenceUse
from apps.licences.selectors import verify_file
from apps.licences.services import LicenceActor, grant_use_authorisation, issue_annotated_copy
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorised(department, other_department):
    holder = verified_user("贺兰")
    licence = person_licence(department, holder=holder)
    grant_use_authorisation(
        user=holder,
        department=other_department,
        purpose="租房备案",
        expires_at=timezone.now() + timedelta(days=5),
        licence=licence,
    )
    return licence, LicenceActor(department=other_department)


def test_copy_is_sealed_watermarked_logged_and_verifies(authorised):
    licence, actor = authorised
    copy = issue_annotated_copy(identifier=licence.identifier, actor=actor, purpose="租房备案")

    content = bytes(copy.content)
    _signed, signature = sealing.detach(content)
    assert signature["toSign"]["propertyInfo"] == f"{licence.identifier}#copy"
    assert copy.valid_until == timezone.localdate() + timedelta(days=30)
    assert copy.use.purpose == "租房备案"
    assert copy.use.is_allowed
    answer = verify_file(content)
    assert answer.is_valid
    assert "加注件" in answer.message
    assert "租房备案" in answer.message


def test_expired_copy_is_refused(authorised):
    licence, actor = authorised
    copy = issue_annotated_copy(
        identifier=licence.identifier, actor=actor, purpose="租房备案", valid_days=1
    )
    later = timezone.localdate() + timedelta(days=2)
    assert verify_file(bytes(copy.content), today=later).reason == "copy_expired"


def test_no_basis_no_copy(department, other_department):
    licence = person_licence(department)
    with pytest.raises(PermissionDenied):
        issue_annotated_copy(
            identifier=licence.identifier,
            actor=LicenceActor(department=other_department),
            purpose="随便看看",
        )
    assert AnnotatedCopy.objects.count() == 0
    assert LicenceUse.objects.get().is_allowed is False
