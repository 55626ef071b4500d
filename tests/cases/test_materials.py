"""Material slots satisfied without an upload: e-licence references and shared data."""

import pytest

from apps.cases import services
from apps.cases.constants import MaterialSource
from apps.cases.demo import licence_identifier
from apps.cases.materials import LicenceReference, default_licence_resolver, licence_resolver
from apps.cases.models import CaseEvent
from apps.cases.permissions import CaseActor
from apps.catalog.licence_types import licence_type_code
from apps.core.exceptions import DomainError
from tests.cases.factories import citizen, draft, item_version

pytestmark = pytest.mark.django_db

ID_CARD = licence_type_code("居民身份证")


@pytest.fixture(autouse=True)
def _default_resolver():
    """These tests are about the seam itself: the interim resolver, not the licences app's."""
    with licence_resolver(default_licence_resolver):
        yield


@pytest.fixture
def case(department):
    return draft(item_version(department), citizen(), with_materials=False)


def test_default_resolver_accepts_a_valid_identifier_of_an_accepted_type(case) -> None:
    # given
    identifier = licence_identifier(ID_CARD, "holder-1")
    me = CaseActor.of(case.acting_user)

    # when
    material = services.add_material_licence(
        case_id=case.pk, actor=me, slot_key="id-card", identifier=identifier
    )

    # then
    assert (material.source, material.licence_identifier) == (MaterialSource.LICENCE, identifier)
    assert not material.file
    assert CaseEvent.objects.filter(case=case, action="material_added").count() == 1


@pytest.mark.parametrize(
    ("_case", "identifier", "code"),
    [
        ("malformed", "1.2.156.3005.2.not-an-id", "licence_identifier_invalid"),
        ("bad_check_character", "swap-check", "licence_identifier_invalid"),
        ("type_not_accepted", "other-type", "licence_type_mismatch"),
    ],
)
def test_default_resolver_refuses(case, _case, identifier, code) -> None:
    valid = licence_identifier(ID_CARD, "holder-1")
    if identifier == "swap-check":
        identifier = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    if identifier == "other-type":
        identifier = licence_identifier(licence_type_code("营业执照"), "holder-1")
    with pytest.raises(DomainError) as refused:
        services.add_material_licence(
            case_id=case.pk,
            actor=CaseActor.of(case.acting_user),
            slot_key="id-card",
            identifier=identifier,
        )
    assert refused.value.code == code
    assert case.materials.count() == 0


def test_a_registered_resolver_decides_and_gets_the_holder(case) -> None:
    # given: the licences app's resolver (here a recording stand-in)
    calls = []

    def resolver(*, user, enterprise, identifier, licence_types):
        calls.append((user, enterprise, identifier, list(licence_types)))
        return LicenceReference(identifier="WALLET-1", licence_type=ID_CARD, name="居民身份证")

    # when
    with licence_resolver(resolver):
        material = services.add_material_licence(
            case_id=case.pk,
            actor=CaseActor.of(case.acting_user),
            slot_key="id-card",
            identifier="picked-from-wallet",
        )

    # then
    assert calls == [(case.acting_user, None, "picked-from-wallet", [ID_CARD])]
    assert material.licence_identifier == "WALLET-1"


def test_slot_without_licence_types_refuses_a_licence(case) -> None:
    with pytest.raises(DomainError) as refused:
        services.add_material_licence(
            case_id=case.pk,
            actor=CaseActor.of(case.acting_user),
            slot_key="application",
            identifier=licence_identifier(ID_CARD, "x"),
        )
    assert refused.value.code == "licence_not_accepted"


def test_another_citizen_cannot_attach_a_licence(case) -> None:
    with pytest.raises(DomainError) as refused:
        services.add_material_licence(
            case_id=case.pk,
            actor=CaseActor.of(citizen("李四")),
            slot_key="id-card",
            identifier=licence_identifier(ID_CARD, "x"),
        )
    assert refused.value.code == "forbidden"
    assert case.materials.count() == 0
