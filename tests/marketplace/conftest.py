import pytest

from tests.marketplace.factories import IntermediaryServiceFactory, operator_user


@pytest.fixture
def service(db):
    return IntermediaryServiceFactory()


@pytest.fixture
def operator(db):
    return operator_user()
