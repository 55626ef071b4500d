import factory

from django.utils import timezone

from apps.handoffs.constants import DeliveryMode
from apps.handoffs.models import DepartmentEndpoint, Handoff, SigningKey
from tests.core.factories import DepartmentFactory


class DepartmentEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepartmentEndpoint

    department = factory.SubFactory(DepartmentFactory)
    mode = DeliveryMode.INTERNAL
    timeout_seconds = 2
    max_attempts = 3

    class Params:
        push = factory.Trait(mode=DeliveryMode.PUSH, push_url="http://127.0.0.1:9/hook")
        pull = factory.Trait(mode=DeliveryMode.PULL)


class SigningKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SigningKey

    endpoint = factory.SubFactory(DepartmentEndpointFactory, push=True)
    key_id = factory.Sequence(lambda n: f"k{n}")
    secret = factory.Sequence(lambda n: f"test-secret-{n:04d}-0123456789abcdef")


def push_endpoint(
    department, simulator, *, secret: str, key_id: str = "k1", timeout: int = 5, **fields
) -> DepartmentEndpoint:
    """``department`` pushes to ``simulator`` (a ``department_simulator`` process holding
    ``key_id=secret``), signed with that key."""
    endpoint = DepartmentEndpointFactory(
        department=department,
        mode=DeliveryMode.PUSH,
        push_url=simulator.url,
        timeout_seconds=timeout,
        **{"max_attempts": 5, **fields},
    )
    SigningKeyFactory(endpoint=endpoint, key_id=key_id, secret=secret)
    return endpoint


class HandoffFactory(factory.django.DjangoModelFactory):
    """A row as ``enqueue_handoff`` writes it (no task scheduled: tests call services)."""

    class Meta:
        model = Handoff

    subject_type = "test.subject"
    subject_id = factory.Sequence(str)
    subject_reference = factory.LazyAttribute(lambda o: f"TEST-{o.subject_id}")
    event = "test.accepted"
    source_department = factory.SubFactory(DepartmentFactory)
    target_department = factory.SubFactory(DepartmentFactory)
    payload = factory.LazyAttribute(lambda o: {"n": o.subject_id})
    max_attempts = 3
    next_attempt_at = factory.LazyFunction(timezone.now)
