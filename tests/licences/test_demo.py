"""The licences part of ``loaddemo``: the demo accounts' licences, the licences the decided demo
cases issue, the national sharing platform subscribed to status changes; idempotent."""

from io import StringIO

import pytest

from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus, Decision
from apps.cases.models import Case
from apps.identity.demo import LEGAL_PERSONS
from apps.identity.models import User
from apps.licences.demo import NATIONAL_PLATFORM_USCC
from apps.licences.models import Licence, StatusSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loaders_up_to_cases(demo_loaders_up_to) -> None:
    # the cases demo runs after the licences demo: its decided cases issue their licences
    demo_loaders_up_to("apps.cases.demo.load_cases_demo")


def _names(**holder) -> list[str]:
    return sorted(Licence.objects.valid().filter(**holder).values_list("name", flat=True))


def test_demo_accounts_hold_their_licences_and_decided_cases_issue_theirs() -> None:
    # (one test: loading the demo catalogue takes ~20 s)
    # when
    out = StringIO()
    call_command("loaddemo", stdout=out)
    # then: 身份证, 户口簿, 驾驶证 for demo-citizen, issued by the public security bureau
    citizen = User.objects.get(username="demo-citizen")
    assert _names(holder_user=citizen) == ["居民户口簿", "居民身份证", "机动车驾驶证"]
    assert set(
        Licence.objects.filter(holder_user=citizen).values_list("issuer__name", flat=True)
    ) == {"南昌市公安局"}
    # 营业执照 and 食品经营许可证 for the demo enterprise (a decided case may have made a new
    # version of one: still one valid licence per type)
    enterprise_names = _names(holder_enterprise__uscc=LEGAL_PERSONS[0].uscc)
    assert {"营业执照", "食品经营许可证"} <= set(enterprise_names)
    assert len(enterprise_names) == len(set(enterprise_names))
    # every decided or completed demo case whose item names a result licence issued it and
    # records it on the case — except where the applicant cannot hold it (a citizen's demo case
    # of an enterprise licence type): the decision stands and the audit log says why
    decided = Case.objects.filter(
        status__in=[CaseStatus.DECIDED, CaseStatus.COMPLETED],
        item_version__result_licence_type__gt="",
        decision__in=[Decision.APPROVED, Decision.PARTIAL],
    )
    issued = {licence.case_id: licence for licence in Licence.objects.filter(case__in=decided)}
    assert issued
    for case in decided.filter(pk__in=issued):
        assert case.result_data["licence"]["identifier"] == issued[case.pk].identifier
    not_issued = AuditEvent.objects.filter(action="licences.result_not_issued")
    audited = {int(event.object_id) for event in not_issued}
    assert set(decided.exclude(pk__in=issued).values_list("pk", flat=True)) <= audited
    assert {event.data["code"] for event in not_issued} <= {"holder_kind_mismatch"}
    # the national sharing platform receives the status changes of every type
    subscription = StatusSubscription.objects.get(department__uscc=NATIONAL_PLATFORM_USCC)
    assert (subscription.is_active, subscription.licence_types) == (True, [])
    assert "订阅证照状态变更" in out.getvalue()
    # and a second run issues nothing new
    count = Licence.objects.count()
    again = StringIO()
    call_command("loaddemo", stdout=again)
    assert "电子证照: 新签发 0 本" in again.getvalue()
    assert Licence.objects.count() == count
