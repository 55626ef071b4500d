"""Privacy: numbers typed into comments never reach the database in clear."""

from __future__ import annotations

import pytest

from apps.reviews import services
from apps.reviews.constants import FollowUpChannel, FollowUpResult, Grade
from tests.dumps import pg_dump
from tests.identity.factories import UserFactory
from tests.reviews.factories import BAD_REASON, window_service

ID_NUMBER = "11010519491231002X"
MOBILE = "13912345678"


@pytest.mark.django_db(transaction=True)
def test_pg_dump_holds_no_plaintext_number_typed_into_comments(department) -> None:
    # given a 差评 with an ID and a phone number typed (full-width and spaced) into the text,
    # and a follow-up note and appeal-free rectification typing them again - all committed
    person = UserFactory()
    service = window_service(department, served_user=person)
    rating = services.rate_by_token(
        token=services.pad_token(service),
        grade=Grade.VERY_DISSATISFIED,
        options=[BAD_REASON],
        comment=f"身份证{ID_NUMBER}，手机 139 1234 5678，１３９１２３４５６７８",
    )
    clerk = service.staff
    services.record_follow_up(
        ticket_id=rating.ticket.pk,
        user=clerk,
        channel=FollowUpChannel.PHONE,
        result=FollowUpResult.REACHED,
        note=f"已回拨{MOBILE}",
    )
    # when
    dump = pg_dump()
    # then
    assert "COPY public.reviews_rating " in dump
    assert "1101**********002X" in dump
    assert ID_NUMBER not in dump
    assert MOBILE not in dump
    assert "139 1234 5678" not in dump
