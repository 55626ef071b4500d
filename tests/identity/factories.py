import secrets
from datetime import timedelta

import factory

from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from apps.identity.constants import ApiScope, StaffRole
from apps.identity.models import ApiClient, StaffMembership, User
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
