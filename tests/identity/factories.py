import datetime
import itertools
import secrets
from datetime import timedelta

import factory

from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from apps.identity.constants import (
    ApiScope,
    AssuranceLevel,
    AuthorisationScope,
    EnterpriseStatus,
    StaffRole,
)
from apps.identity.demo import make_enterprise_uscc, make_id_number
from apps.identity.models import (
    AgentAuthorisation,
    ApiClient,
    Enterprise,
    LegalPersonRecord,
    Person,
    PopulationRecord,
    StaffMembership,
    User,
)
from tests.core.factories import DepartmentFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")

    class Params:
        staff = factory.Trait(is_staff=True)
        admin = factory.Trait(is_staff=True, is_superuser=True)


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = StaffRole.CLERK


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"dept-system-{n}")
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
    client_secret = "test-client-secret"
    hash_client_secret = True


class ApiClientFactory(factory.django.DjangoModelFactory):
    """A department system's client; ``allowed_scopes`` is space-separated."""

    class Meta:
        model = ApiClient

    application = factory.SubFactory(ApplicationFactory)
    department = factory.SubFactory(DepartmentFactory)
    allowed_scopes = " ".join(ApiScope.values)


def issue_token(client: ApiClient, scopes: str) -> AccessToken:
    """An access token as the token endpoint would issue it for client credentials."""
    return AccessToken.objects.create(
        application=client.application,
        token=secrets.token_urlsafe(32),
        expires=timezone.now() + timedelta(hours=1),
        scope=scopes,
    )


# --- people, registries, enterprises ----------------------------------------------------------

_person_sequence = itertools.count(1)


def valid_id_number(*, region: str = "360102") -> str:
    """A fresh synthetic GB 11643 number with a correct check character."""
    n = next(_person_sequence)
    birth = datetime.date(1990, 1, 1) + timedelta(days=n // 999)
    return make_id_number(region, birth.strftime("%Y%m%d"), n % 999 + 1)


class PopulationRecordFactory(factory.django.DjangoModelFactory):
    """A 人口库 entry; pass ``id_number=`` to choose the number."""

    class Meta:
        model = PopulationRecord

    name = factory.Sequence(lambda n: f"测试{n}")
    household_region = "360102"

    @classmethod
    def _create(cls, model_class, *args, id_number=None, **kwargs):
        record = model_class(**kwargs)
        record.set_id_number(id_number or valid_id_number())
        record.save()
        return record


class PersonFactory(factory.django.DjangoModelFactory):
    """A natural person at L1; ``verified=True`` gives an L2 person with a registry entry."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"张{n}")

    class Params:
        verified = factory.Trait(assurance_level=AssuranceLevel.L2)

    @classmethod
    def _create(cls, model_class, *args, id_number=None, phone=None, **kwargs):
        person = model_class(**kwargs)
        if id_number or person.assurance_level >= AssuranceLevel.L2:
            person.set_id_number(id_number or valid_id_number())
        person.set_phone(phone)
        person.save()
        return person


def verified_user(name: str = "张伟", **kwargs) -> User:
    """An L2 account whose name + ID number are also in the population registry."""
    id_number = kwargs.pop("id_number", None) or valid_id_number()
    PopulationRecordFactory(name=name, id_number=id_number)
    return PersonFactory(name=name, id_number=id_number, verified=True, **kwargs).user


class LegalPersonRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalPersonRecord

    uscc = factory.Sequence(lambda n: make_enterprise_uscc("360113", 500 + n))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    legal_rep_name = "张伟"
    status = EnterpriseStatus.ACTIVE

    @classmethod
    def _create(cls, model_class, *args, legal_rep_id_number=None, **kwargs):
        record = model_class(**kwargs)
        record.set_legal_rep_id_number(legal_rep_id_number or valid_id_number())
        record.save()
        return record


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(lambda n: make_enterprise_uscc("360102", 700 + n))
    name = factory.Sequence(lambda n: f"示范企业{n}有限公司")
    legal_rep_name = "张伟"
    legal_representative = factory.LazyFunction(verified_user)


class AgentAuthorisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentAuthorisation

    enterprise = factory.SubFactory(EnterpriseFactory)
    agent = factory.LazyFunction(lambda: verified_user("李四"))
    granted_by = factory.LazyAttribute(lambda o: o.enterprise.legal_representative)
    scope = AuthorisationScope.ALL
    item_codes = factory.LazyFunction(list)
    valid_from = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
