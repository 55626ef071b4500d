"""Personal data at rest: encrypted with rotatable keys, found by blind index, masked on screen,
and absent in clear from a database dump (DOMAIN.md §4.7)."""

import os
import subprocess

import pytest
from cryptography.fernet import Fernet

from django.conf import settings
from django.db import connection

from apps.identity import pii
from apps.identity.models import Person, PopulationRecord
from tests.identity.factories import PersonFactory, PopulationRecordFactory, valid_id_number


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_id_and_phone_stored_encrypted_and_read_back() -> None:
    # given
    id_number = valid_id_number()
    # when
    person = PersonFactory(id_number=id_number, phone="13912345678", verified=True)
    # then
    stored_id = _raw("identity_person", "id_number", person.pk)
    stored_phone = _raw("identity_person", "phone", person.pk)
    assert stored_id.startswith("fernet:")
    assert id_number not in stored_id
    assert "13912345678" not in stored_phone
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.id_number == id_number
    assert fresh.phone == "13912345678"


@pytest.mark.django_db
def test_blind_index_finds_exact_number_only() -> None:
    # given
    id_number = valid_id_number()
    person = PersonFactory(id_number=id_number, verified=True)
    PersonFactory(verified=True)
    # when
    found = Person.objects.get(id_number_index=pii.id_number_index(id_number.lower()))
    # then
    assert found.pk == person.pk
    assert pii.id_number_index(id_number) != pii.phone_index(id_number)


@pytest.mark.django_db
def test_encrypted_column_refuses_value_lookups() -> None:
    with pytest.raises(NotImplementedError, match="blind index"):
        Person.objects.filter(id_number="11010519491231002X").count()


@pytest.mark.django_db
def test_key_rotation_old_rows_still_readable_and_rotated(settings) -> None:
    # given a row written under the current first key
    record = PopulationRecordFactory(name="王五")
    old_token = _raw("identity_populationrecord", "id_number", record.pk)
    # when a new key is put first
    new_key = Fernet.generate_key().decode()
    settings.PII_KEYS = [new_key, *settings.PII_KEYS]
    # then the old row still decrypts, is flagged for rotation, and rotates to the new key
    assert PopulationRecord.objects.get(pk=record.pk).id_number == record.id_number
    assert pii.needs_rotation(old_token)
    rotated = pii.rotate(old_token)
    assert not pii.needs_rotation(rotated)
    assert pii.decrypt(rotated) == record.id_number
    # and once the old key is dropped, the old token no longer decrypts
    settings.PII_KEYS = [new_key]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        pii.decrypt(old_token)
    assert pii.decrypt(rotated) == record.id_number


@pytest.mark.parametrize(
    ("value", "masked"),
    [("11010519491231002X", "1101**********002X"), ("360102199001010011", "3601**********0011")],
)
def test_mask_id_number(value: str, masked: str) -> None:
    assert pii.mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"), [("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("", "")]
)
def test_mask_name(value: str, masked: str) -> None:
    assert pii.mask_name(value) == masked


def test_mask_phone() -> None:
    assert pii.mask_phone("13812341234") == "138****1234"


@pytest.mark.django_db(transaction=True)
def test_pg_dump_of_test_database_holds_no_plaintext_id_number() -> None:
    # given committed persons, registry records and an enterprise registry entry
    from tests.identity.factories import LegalPersonRecordFactory

    id_numbers = [valid_id_number() for _ in range(3)]
    PersonFactory(id_number=id_numbers[0], phone="13700001111", verified=True)
    PopulationRecordFactory(id_number=id_numbers[1])
    LegalPersonRecordFactory(legal_rep_id_number=id_numbers[2])
    db = settings.DATABASES["default"]
    # when the test database is dumped
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db.get("USER") or "postgres",
            db["NAME"],
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    ).stdout.decode()
    # then the dump has the rows (ciphertexts) but no ID or phone number in clear
    assert dump.count("fernet:") >= 4
    for number in id_numbers:
        assert number not in dump
        assert number.lower() not in dump
    assert "13700001111" not in dump


@pytest.mark.django_db
def test_rotate_pii_keys_command(settings) -> None:
    # given rows under the old key, and a new key put first
    from io import StringIO

    from django.core.management import call_command

    person = PersonFactory(phone="13700002222", verified=True)
    old_key = settings.PII_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.PII_KEYS = [new_key, old_key]
    # when
    out = StringIO()
    call_command("rotate_pii_keys", stdout=out)
    # then every value decrypts with the new key alone
    settings.PII_KEYS = [new_key]
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.id_number, fresh.phone) == (person.id_number, "13700002222")
    assert "identity.Person: 1 行" in out.getvalue()
    # and a second run has nothing to do
    settings.PII_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_pii_keys", stdout=out)
    assert "共 0 行" in out.getvalue()
