"""Handoff payloads (the application form: ID and phone numbers) are encrypted at rest.

Stored with the identity app's PII keys (``apps.identity.pii``), decrypted only when the
handoff is pushed or served from the inbox; rotated by ``rotate_pii_keys``.
"""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet

from django.core.management import call_command
from django.db import connection

from apps.cases.constants import CaseStatus
from apps.handoffs.constants import HandoffState
from apps.handoffs.models import Handoff
from apps.handoffs.services import build_envelope
from tests.cases.factories import FORM, case_in, citizen, clerk_of, item_version, reviewer_of
from tests.dumps import pg_dump
from tests.handoffs.factories import HandoffFactory

ID_NUMBER = FORM["id_number"]
PHONE = FORM["mobile"]


def _accepted_case(department):
    return case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )


def _raw_payload(handoff_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM handoffs_handoff WHERE id = %s", [handoff_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_pg_dump_of_the_handoff_tables_holds_no_plaintext_id_or_phone_number(department) -> None:
    # given a real case accepted (its handoff written in the same transaction) and committed
    case = _accepted_case(department)
    handoff = Handoff.objects.get(subject_type="cases.case", subject_id=str(case.pk))
    # the payload does carry the form's numbers (positive control, through the ORM)
    assert handoff.payload["form"]["id_number"] == ID_NUMBER
    assert handoff.payload["form"]["mobile"] == PHONE
    # when the handoff tables are dumped with the real pg_dump
    dump = pg_dump("--data-only", "--table=handoffs_*")
    # then the row is there, its payload only as ciphertext, and no number in any spelling
    assert handoff.idempotency_key in dump
    assert case.number in dump
    assert "fernet:" in dump
    for secret in (ID_NUMBER, ID_NUMBER.lower(), PHONE, f"{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}"):
        assert secret not in dump
    assert FORM["applicant_name"] not in _raw_payload(handoff.pk)


@pytest.mark.django_db
def test_payload_is_decrypted_for_the_inbox_and_the_push_envelope(dept_client, department) -> None:
    # given a handoff in the department's inbox
    payload = {"form": {"id_number": ID_NUMBER, "mobile": PHONE}, "case_number": "X-1"}
    handoff = HandoffFactory(
        target_department=department, state=HandoffState.DELIVERED, payload=payload
    )
    assert _raw_payload(handoff.pk).startswith("fernet:")
    # when the department pulls its inbox; and when the push envelope is built
    inbox = dept_client.get("/api/v1/handoffs/inbox/").json()["results"]
    envelope = build_envelope(Handoff.objects.get(pk=handoff.pk))
    # then both carry the plaintext document
    assert inbox[0]["payload"] == payload
    assert envelope["payload"] == payload


@pytest.mark.django_db
def test_office_screens_and_delivery_bookkeeping_do_not_decrypt_the_payload(
    department, dept_admin, monkeypatch
) -> None:
    # given a dead letter and a delivered handoff; decrypting now fails loudly
    from apps.handoffs import fields, selectors, services

    dead = HandoffFactory(target_department=department, state=HandoffState.DEAD)
    delivered = HandoffFactory(target_department=department, state=HandoffState.DELIVERED)

    def refuse(token: str) -> str:
        raise AssertionError("payload decrypted where it is not needed")

    monkeypatch.setattr(fields, "decrypt", refuse)
    # when the monitor, the detail, the health check, the sweeper, an ack and a retry run
    assert len(list(selectors.list_handoffs_for(dept_admin))) == 2
    assert selectors.get_handoff_for(dept_admin, dead.pk).pk == dead.pk
    selectors.handoff_health()
    services.sweep_handoffs()
    services.acknowledge_handoff(handoff_id=delivered.pk, department=department)
    services.retry_handoff(handoff_id=dead.pk, actor=dept_admin)
    # then none of them needed the plaintext (no AssertionError above)
    assert Handoff.objects.filter(pk=dead.pk).values_list("state", flat=True).get() == "pending"


@pytest.mark.django_db
def test_payload_is_rotated_by_rotate_pii_keys(settings, department) -> None:
    # given a handoff written under the current key, then a new key put first
    handoff = HandoffFactory(target_department=department, payload={"id_number": ID_NUMBER})
    old_token = _raw_payload(handoff.pk)
    new_key = Fernet.generate_key().decode()
    settings.PII_KEYS = [new_key, *settings.PII_KEYS]
    # when the rotation command runs
    call_command("rotate_pii_keys", stdout=StringIO())
    # then the payload has a new ciphertext that the new key alone decrypts
    assert _raw_payload(handoff.pk) != old_token
    settings.PII_KEYS = [new_key]
    assert Handoff.objects.get(pk=handoff.pk).payload == {"id_number": ID_NUMBER}
