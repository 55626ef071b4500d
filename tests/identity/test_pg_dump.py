"""A database dump holds no plaintext ID or phone number (issue 3 must-show; PIPL Art. 51).

Committed data (transactional test) dumped with the real ``pg_dump`` of the test database.
"""

import pytest
from axes.models import AccessAttempt

from apps.identity import services
from tests.dumps import pg_dump
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    LegalPersonRecordFactory,
    PersonFactory,
    PopulationRecordFactory,
    valid_id_number,
)


@pytest.mark.django_db(transaction=True)
def test_pg_dump_of_the_test_database_contains_no_plaintext_id_or_phone_number(
    clerk, client
) -> None:
    # given: a verified person (with registry entry), a legal-person record naming them,
    # an enterprise, an agent, a redeemed service code and an audited reveal - all committed
    id_number = valid_id_number()
    phone = "13912340000"
    PopulationRecordFactory(name="赵晓明", id_number=id_number)
    person = PersonFactory(name="赵晓明", id_number=id_number, phone=phone, verified=True)
    LegalPersonRecordFactory(legal_rep_name="赵晓明", legal_rep_id_number=id_number)
    enterprise = EnterpriseFactory(legal_representative=person.user)
    AgentAuthorisationFactory(enterprise=enterprise)
    issued = services.issue_service_code(user=person.user)
    services.redeem_service_code(issued.code, clerk=clerk)
    services.reveal_person_id_number(staff=clerk, subject=person.user, reason="核对户籍证明")
    # failed logins typed with the registered phone, an unregistered phone and an ID number:
    # django-axes records each attempt
    stranger_phone = "13612349876"
    for typed in (phone, stranger_phone, id_number):
        response = client.post("/accounts/login/", {"username": typed, "password": "wrong-pass"})
        assert response.status_code == 200
    attempts = list(AccessAttempt.objects.all())
    assert len(attempts) == 3
    assert all(a.username.startswith("login:") for a in attempts)

    # when
    dump = pg_dump()

    # then: the data is in the dump (positive control) ...
    assert "赵晓明" in dump
    assert enterprise.uscc in dump
    assert "fernet:" in dump
    # ... but never the numbers, in any usual spelling
    assert "axes_accessattempt" in dump
    spellings = (id_number, id_number.lower(), phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}")
    for secret in (*spellings, stranger_phone):
        assert secret not in dump
    assert issued.code not in dump
