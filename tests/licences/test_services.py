"""Issue, change/renew, status actions and expiry of licences (DOMAIN.md §3.2–§3.7)."""

from datetime import date, timedelta

import pytest

from django.db import IntegrityError, connection, transaction

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.licences.constants import LicenceAction, LicenceStatus
from apps.licences.identifiers import parse_identifier
from apps.licences.models import Licence, LicenceStatusChange
from apps.licences.selectors import verify_licence
from apps.licences.services import (
    LicenceActor,
    change_licence,
    change_licence_status,
    expire_licences,
    holder_code_index,
)
from tests.identity.factories import verified_user
from tests.licences.factories import BUSINESS, enterprise_licence, licence_type, person_licence

pytestmark = pytest.mark.django_db


def test_issue_writes_licence_history_and_audit_with_the_holder_code_encrypted(department):
    # given
    holder = verified_user("王芳")

    # when
    licence = person_licence(department, holder=holder)

    # then
    licence = Licence.objects.get(pk=licence.pk)
    assert licence.status == LicenceStatus.VALID
    assert licence.version == 1
    assert licence.identifier == str(parse_identifier(licence.identifier))
    assert licence.identifier.split(".")[5:7] == [licence_type().code, department.uscc]
    assert licence.holder_code == holder.person.id_number
    assert licence.holder_code_index == holder_code_index(holder.person.id_number)
    assert licence.valid_until == licence.valid_from.replace(year=licence.valid_from.year + 6) - (
        timedelta(days=1)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_code FROM licences_licence WHERE id = %s", [licence.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("fernet:")
    assert holder.person.id_number not in raw
    change = LicenceStatusChange.objects.get(licence=licence)
    assert (change.action, change.from_status, change.to_status) == ("issue", "", "valid")
    assert (
        AuditEvent.objects.filter(action="licences.issue", object_id=str(licence.pk)).count() == 1
    )


@pytest.mark.parametrize(
    ("_case", "face", "message"),
    [
        ("missing_required", {"ZJCX": "C1"}, "照面信息缺少“姓名”"),
        ("unknown_field", {"XM": "王芳", "FOO": "x"}, "模板之外的项目：FOO"),
        ("bad_date", {"XM": "王芳", "CCLZRQ": "2020-13-45x"}, "初次领证日期"),
        ("not_a_mapping", ["XM"], "照面信息格式不正确"),
    ],
)
def test_face_data_outside_the_template_is_refused_and_nothing_is_written(
    department, _case, face, message
):
    holder = verified_user("王芳")
    with pytest.raises(DomainError, match=message) as error:
        person_licence(department, holder=holder, face_data=face)
    assert error.value.code == "face_data_invalid"
    assert Licence.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="licences.").exists()


def test_second_valid_licence_of_an_exclusive_type_is_refused(department):
    holder = verified_user()
    person_licence(department, holder=holder)
    with pytest.raises(DomainError) as error:
        person_licence(department, holder=holder)
    assert error.value.code == "licence_already_held"
    assert Licence.objects.count() == 1


def test_database_keeps_one_valid_licence_per_holder_and_type(department):
    # given: a valid licence
    first = person_licence(department)

    # when: a second valid row for the same holder is forced past the service
    clone = Licence.objects.get(pk=first.pk)
    clone.pk = None
    clone.identifier = first.identifier + "X"
    clone.serial = "OTHER"
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_a_type_that_allows_several_takes_several(department):
    holder = verified_user()
    person_licence(department, holder=holder, name="职业资格证书", face_data={"XM": "张伟"})
    person_licence(department, holder=holder, name="职业资格证书", face_data={"XM": "张伟"})
    assert Licence.objects.filter(holder_user=holder, status=LicenceStatus.VALID).count() == 2


def test_change_raises_the_version_and_links_the_predecessor(department):
    # given
    old = person_licence(department)

    # when
    new = change_licence(
        licence_id=old.pk,
        actor=LicenceActor.system(),
        face_data={"XM": old.holder_name, "ZJCX": "B2"},
        reason="增驾",
    )

    # then
    old.refresh_from_db()
    assert old.status == LicenceStatus.SUPERSEDED
    assert new.status == LicenceStatus.VALID
    assert new.predecessor == old
    assert (new.serial, new.version, new.number) == (old.serial, 2, old.number)
    assert parse_identifier(new.identifier) == parse_identifier(old.identifier).next_version()
    assert new.valid_until == old.valid_until
    supersede = LicenceStatusChange.objects.get(licence=old, action=LicenceAction.SUPERSEDE)
    assert supersede.related == new
    answer = verify_licence(old)
    assert (answer.is_valid, answer.reason, answer.superseded_by) == (False, "superseded", "002")


def test_renew_starts_a_new_term(department):
    old = person_licence(department, valid_from=date(2020, 1, 1), valid_until=date(2026, 12, 31))
    new = change_licence(
        licence_id=old.pk, actor=LicenceActor.system(), kind=LicenceAction.RENEW, reason="延续"
    )
    assert new.valid_from > old.valid_from
    assert new.valid_until == new.valid_from.replace(year=new.valid_from.year + 6) - timedelta(1)


def test_long_term_type_refuses_an_end_date(department):
    with pytest.raises(DomainError, match="长期有效"):
        enterprise_licence(department, valid_until=date(2030, 1, 1))
    licence = enterprise_licence(department)
    assert licence.valid_until is None
    assert licence_type(BUSINESS).validity_rule == "long_term"


def test_revoke_records_reason_basis_actor_and_verification_says_revoked(department, clerk):
    # given
    licence = person_licence(department)
    actor = LicenceActor.of_user(clerk, department)

    # when
    change_licence_status(
        licence_id=licence.pk, actor=actor, action=LicenceAction.REVOKE, reason="醉酒驾驶"
    )

    # then
    licence.refresh_from_db()
    change = licence.history.get(action=LicenceAction.REVOKE)
    assert (change.from_status, change.to_status, change.reason) == ("valid", "revoked", "醉酒驾驶")
    assert change.legal_basis == "《中华人民共和国行政处罚法》第九条"
    assert change.actor_user == clerk
    assert change.actor_department == department
    answer = verify_licence(licence)
    assert (answer.is_valid, answer.reason) == (False, "revoked")
    assert "已吊销" in answer.message


def test_another_department_cannot_change_the_status(department, other_department):
    licence = person_licence(department)
    with pytest.raises(DomainError) as error:
        change_licence_status(
            licence_id=licence.pk,
            actor=LicenceActor(department=other_department),
            action=LicenceAction.SUSPEND,
            reason="挂失",
        )
    assert error.value.code == "not_issuer"
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID
    assert licence.history.count() == 1


def test_final_statuses_refuse_further_actions(department):
    licence = person_licence(department)
    actor = LicenceActor.system()
    change_licence_status(
        licence_id=licence.pk, actor=actor, action=LicenceAction.ANNUL, reason="以欺骗手段取得"
    )
    with pytest.raises(DomainError) as error:
        change_licence_status(
            licence_id=licence.pk, actor=actor, action=LicenceAction.RESUME, reason="x"
        )
    assert error.value.code == "illegal_transition"


def test_resume_is_refused_when_another_valid_licence_exists(department):
    holder = verified_user()
    first = person_licence(department, holder=holder)
    actor = LicenceActor.system()
    change_licence_status(
        licence_id=first.pk, actor=actor, action=LicenceAction.SUSPEND, reason="遗失"
    )
    person_licence(department, holder=holder)
    with pytest.raises(DomainError) as error:
        change_licence_status(
            licence_id=first.pk, actor=actor, action=LicenceAction.RESUME, reason="找回"
        )
    assert error.value.code == "licence_already_held"


def test_status_change_history_cannot_be_edited(department):
    licence = person_licence(department)
    change = licence.history.get()
    change.reason = "改写"
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_expiry_sweep_marks_ended_licences_expired(department):
    licence = person_licence(
        department, valid_from=date(2019, 1, 1), valid_until=date(2024, 12, 31)
    )
    assert verify_licence(licence).reason == "expired"  # even before the sweep runs
    assert expire_licences(today=date(2025, 1, 1)) == 1
    assert expire_licences(today=date(2025, 1, 1)) == 0
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.EXPIRED
    assert licence.history.last().reason == "有效期届满"


def test_person_without_real_name_cannot_hold_a_person_licence(department):
    from tests.identity.factories import UserFactory

    with pytest.raises(DomainError) as error:
        person_licence(department, holder=UserFactory(), face_data={"XM": "x"})
    assert error.value.code == "holder_not_identified"


def test_expiry_task_calls_the_sweep(department):
    from apps.licences.tasks import expire_licences as task

    person_licence(department, valid_from=date(2015, 1, 1), valid_until=date(2020, 12, 31))
    assert task() == 1
    assert Licence.objects.get().status == LicenceStatus.EXPIRED
