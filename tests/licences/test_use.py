"""用证 with consent: a clerk reads a licence only with a purpose and a basis (DOMAIN.md §3.6)."""

from datetime import timedelta

import pytest

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.licences.models import LicenceUse
from apps.licences.services import (
    LicenceActor,
    grant_use_authorisation,
    read_licence_for_use,
    revoke_use_authorisation,
)
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(department):
    holder = verified_user("蒋蕾")
    return holder, person_licence(department, holder=holder)


def test_clerk_without_case_or_authorisation_is_refused_recorded_and_audited(
    held, clerk, department
):
    holder, licence = held
    with pytest.raises(PermissionDenied):
        read_licence_for_use(
            identifier=licence.identifier,
            actor=LicenceActor.of_user(clerk, department),
            purpose="核验驾驶资格",
        )
    use = LicenceUse.objects.get()
    assert (use.is_allowed, use.holder_user, use.purpose) == (False, holder, "核验驾驶资格")
    assert AuditEvent.objects.filter(action="licences.use_refused").count() == 1


def test_holder_authorisation_allows_the_read_and_the_holder_sees_the_use(held, clerk, department):
    # given
    holder, licence = held
    grant = grant_use_authorisation(
        user=holder,
        department=department,
        purpose="办理营业执照",
        expires_at=timezone.now() + timedelta(days=1),
        licence_types=[licence.licence_type.code],
    )

    # when
    read = read_licence_for_use(
        identifier=licence.identifier,
        actor=LicenceActor.of_user(clerk, department),
        purpose="核验驾驶资格",
    )

    # then
    assert read == licence
    use = LicenceUse.objects.get(holder_user=holder)
    assert (use.is_allowed, use.basis, use.authorisation, use.department) == (
        True,
        "authorisation",
        grant,
        department,
    )

    # and after revocation the same read is refused
    revoke_use_authorisation(authorisation_id=grant.pk, user=holder)
    with pytest.raises(PermissionDenied):
        read_licence_for_use(
            identifier=licence.identifier,
            actor=LicenceActor.of_user(clerk, department),
            purpose="再次核验",
        )


@pytest.mark.parametrize(("_case", "purpose"), [("empty", " "), ("too_long", "长" * 201)])
def test_purpose_is_required_and_short(held, clerk, department, _case, purpose):
    _holder, licence = held
    with pytest.raises(DomainError) as error:
        read_licence_for_use(
            identifier=licence.identifier,
            actor=LicenceActor.of_user(clerk, department),
            purpose=purpose,
        )
    assert error.value.code == "purpose_required"
    assert LicenceUse.objects.count() == 0


def test_a_case_of_the_holder_in_the_clerks_department_is_a_basis(held, clerk, department):
    from tests.cases.factories import draft, item_version

    holder, licence = held
    case = draft(item_version(department), holder, with_materials=False)
    read_licence_for_use(
        identifier=licence.identifier,
        actor=LicenceActor.of_user(clerk, department),
        purpose="受理审查",
        case_id=case.pk,
    )
    use = LicenceUse.objects.get()
    assert (use.is_allowed, use.basis, use.case) == (True, "case", case)
