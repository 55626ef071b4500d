"""The hash-chained audit trail: tamper detection and concurrent writers."""

import itertools
import threading

import pytest

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from apps.audit.services import record_audit_event, verify_audit_chain
from tests.identity.factories import UserFactory


def _write(n: int, actor=None) -> list[AuditEvent]:
    return [
        record_audit_event(
            actor=actor,
            action="test.event",
            object_type="t",
            object_id=i,
            data={"i": i, "text": "办件受理"},
        )
        for i in range(n)
    ]


def _as_dba(sql: str, params: list) -> None:
    """Change rows behind the application's back, as someone with table rights would."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.mark.django_db
def test_events_form_a_chain() -> None:
    # given five events by a user
    user = UserFactory()
    events = _write(5, actor=user)
    # then each links to its predecessor and the head holds the newest
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (5, events[-1].hash)
    assert events[0].actor_repr == user.username
    report = verify_audit_chain()
    assert report.ok
    assert report.checked == 5


@pytest.mark.django_db
def test_audit_verify_command_passes_on_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _write(3)
    call_command("audit_verify")
    assert "3 events verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_update_and_delete_refused_by_database() -> None:
    # given an event
    (event,) = _write(1)
    # when the application tries to change or delete it
    # then PostgreSQL's trigger refuses both
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
def test_edited_row_is_named() -> None:
    # given a chain of 5 where event 3's data is edited behind the application's back
    events = _write(5)
    _as_dba("UPDATE audit_auditevent SET data = %s WHERE seq = 3", ['{"i": 99}'])
    # when verified
    # then the command fails and names event 3
    with pytest.raises(CommandError, match=rf"seq=3 \(id={events[2].pk}\): content does not match"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_deleted_row_is_named() -> None:
    # given a chain of 5 where event 2 is deleted
    _write(5)
    _as_dba("DELETE FROM audit_auditevent WHERE seq = 2", [])
    # then the gap at 2 is reported
    with pytest.raises(CommandError, match=r"seq=2: missing \(deleted\)"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_deleted_tail_is_detected() -> None:
    # given a chain of 5 whose last event is deleted
    _write(5)
    _as_dba("DELETE FROM audit_auditevent WHERE seq = 5", [])
    # then the head no longer matches the end of the trail
    with pytest.raises(CommandError, match="chain head records seq=5 but the trail ends at seq=4"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_rehashed_forgery_is_detected_by_successor() -> None:
    # given event 2 edited AND its own hash recomputed by a forger who knows the scheme
    from apps.audit.services import event_hash

    events = _write(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.data = {"i": 1000}
    new_hash = event_hash(forged)
    _as_dba(
        "UPDATE audit_auditevent SET data = %s, hash = %s WHERE seq = 2", ['{"i": 1000}', new_hash]
    )
    # then event 3 no longer links to it
    report = verify_audit_chain()
    assert not report.ok
    assert report.problem is not None
    assert (report.problem.seq, report.problem.event_id) == (3, events[2].pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain() -> None:
    # given 8 threads, each with its own database connection, writing 25 events at once
    threads_count, per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    record_audit_event(
                        actor=None,
                        action="test.concurrent",
                        object_type="thread",
                        object_id=t,
                        data={"i": i},
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_count)]
    # when they all run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then every event is in one unbroken chain: no duplicate predecessor, no gap
    assert errors == []
    total = threads_count * per_thread
    assert AuditEvent.objects.count() == total
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == total
    report = verify_audit_chain()
    assert report.ok
    assert report.checked == total
