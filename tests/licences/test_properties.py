"""Property test (hypothesis) over random sequences of status actions on one holder's licences:
the history is complete, at most one licence is valid, and verification agrees with the status."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.exceptions import DomainError
from apps.licences.constants import LicenceAction, LicenceStatus
from apps.licences.models import Licence
from apps.licences.selectors import verify_licence
from apps.licences.services import LicenceActor, change_licence, change_licence_status
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db

ACTIONS = [
    "issue",
    LicenceAction.CHANGE,
    LicenceAction.RENEW,
    LicenceAction.SUSPEND,
    LicenceAction.RESUME,
    LicenceAction.REVOKE,
    LicenceAction.CANCEL,
    LicenceAction.ANNUL,
    LicenceAction.WITHDRAW,
]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 5)), max_size=12))
def test_random_status_actions_keep_the_invariants(department, steps) -> None:
    holder = verified_user()
    actor = LicenceActor.system()
    applied = 0
    for action, pick in steps:
        licences = list(Licence.objects.filter(holder_user=holder).order_by("pk"))
        target = licences[pick % len(licences)] if licences else None
        try:
            if action == "issue" or target is None:
                person_licence(department, holder=holder)
            elif action in (LicenceAction.CHANGE, LicenceAction.RENEW):
                change_licence(licence_id=target.pk, actor=actor, kind=action, reason="测试")
                applied += 1  # the successor's issue row
            else:
                change_licence_status(
                    licence_id=target.pk, actor=actor, action=action, reason="测试"
                )
            applied += 1
        except DomainError:
            pass  # refused: nothing may have changed (checked by the history count below)

        rows = list(Licence.objects.filter(holder_user=holder).prefetch_related("history"))
        # at most one valid instance per holder and type
        assert sum(r.status == LicenceStatus.VALID for r in rows) <= 1
        # the history is complete: one row per applied change, a chain ending in the status
        assert sum(len(r.history.all()) for r in rows) == applied
        for row in rows:
            history = list(row.history.all())
            assert history[0].from_status == ""
            assert [h.from_status for h in history[1:]] == [h.to_status for h in history[:-1]]
            assert history[-1].to_status == row.status
            # verification agrees with the status
            answer = verify_licence(row)
            assert answer.is_valid == (row.status == LicenceStatus.VALID)
            assert answer.reason == row.status
