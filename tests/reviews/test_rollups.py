"""Property: the incremental rollups equal a brute-force recount of the rows (DOMAIN.md §2.6),
over random ratings (incl. follow-ups and system defaults), tickets and appeals (incl. upheld)."""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.exceptions import DomainError
from apps.core.models import Region
from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.models import Appeal, Rating, RectificationTicket, ReviewRollup, ServiceRecord
from tests.core.factories import DepartmentFactory, RegionFactory
from tests.identity.factories import StaffMembershipFactory, UserFactory
from tests.reviews.factories import (
    BAD_REASON,
    GOOD_OPTION,
    ONLINE_BAD_REASON,
    WindowFactory,
    authority,
    clerk_at,
)

TZ = ZoneInfo("Asia/Shanghai")
MONDAYS = [datetime(2026, 1, 5, 9, 0, tzinfo=TZ), datetime(2026, 2, 2, 9, 0, tzinfo=TZ)]
# Written out here on purpose, not imported: the recount must not share the code's tables.
A8 = {
    "very_satisfied": 1,
    "satisfied": 2,
    "basically_satisfied": 3,
    "dissatisfied": 4,
    "very_dissatisfied": 5,
}
POINTS = {
    "very_satisfied": 5,
    "satisfied": 4,
    "basically_satisfied": 3,
    "dissatisfied": 2,
    "very_dissatisfied": 1,
}

BAD = ("dissatisfied", "very_dissatisfied")
# One script per service; grades lean towards 差评 so the loop and appeals are exercised.
grades = st.sampled_from([*A8, *BAD, *BAD])
scripts = st.lists(
    st.fixed_dictionaries(
        {
            "month": st.integers(0, 1),
            "dept": st.integers(0, 1),
            "window": st.integers(0, 1),
            "known": st.booleans(),
            "first": st.one_of(st.none(), grades),
            "channel": st.sampled_from(["hall_pad", "qr"]),
            "appeal": st.sampled_from([None, "pending", "upheld", "rejected"]),
            "call": st.booleans(),
            "rectify": st.sampled_from([None, "on_time", "late"]),
            "answer": st.booleans(),
            "second": st.one_of(st.none(), grades),
        }
    ),
    min_size=1,
    max_size=6,
)


def _recount() -> dict[tuple[str, str, str], Counter]:
    expected: dict[tuple[str, str, str], Counter] = defaultdict(Counter)

    def keys(service: ServiceRecord) -> list[tuple[str, str]]:
        found = [("total", ""), ("department", str(service.department_id))]
        region = Region.objects.get(pk=service.region_id)
        while region is not None:
            found.append(("region", region.code))
            region = region.parent
        found += [("item", service.item_code), ("hall", str(service.hall_id))]
        found += [("window", str(service.window_id)), ("staff", str(service.staff_id))]
        return found

    for service in ServiceRecord.objects.all():
        for dim, key in keys(service):
            expected[(dim, key, service.period)]["services"] += 1
    for rating in Rating.objects.select_related("service"):
        service = rating.service
        counted = Counter()
        if rating.is_current and not rating.is_excluded:
            if rating.source == "system_default":
                counted["defaults"] += 1
            else:
                counted["ratings"] += 1
                counted[f"grade_{A8[rating.grade]}"] += 1
                counted["score_sum"] += POINTS[rating.grade]
        ticket = RectificationTicket.objects.filter(rating=rating).first()
        if ticket is not None and not rating.is_excluded:
            counted["tickets"] += 1
            counted["followed_up"] += int(ticket.follow_ups.exists())
            rectified = ticket.status in ("awaiting_feedback", "closed")
            counted["rectified"] += int(rectified)
            counted["rectified_on_time"] += int(
                rectified and ticket.rectified_at <= ticket.rectify_due
            )
        if ticket is not None:
            for appeal in Appeal.objects.filter(ticket=ticket):
                counted["appeals_decided"] += int(appeal.status != "pending")
                counted["appeals_upheld"] += int(appeal.status == "upheld")
        for dim, key in [*keys(service), ("channel", rating.channel)]:
            expected[(dim, key, service.period)] += counted
    return {k: v for k, v in expected.items() if v}


def _rollups() -> dict[tuple[str, str, str], Counter]:
    found = {}
    for row in ReviewRollup.objects.all():
        counts = Counter({name: getattr(row, name) for name in ReviewRollup.COUNTERS})
        counts = +counts  # drop zeros
        if counts:
            found[(row.dimension, row.key, row.period)] = counts
    return found


def _run(script, record, token, day, head, supervisor) -> None:
    """Play one service's script through the services; refusals are part of the game."""

    def attempt(moment, fn, **kwargs) -> None:
        with time_machine.travel(moment, tick=False), contextlib.suppress(DomainError):
            fn(**kwargs)

    def ticket():
        return RectificationTicket.objects.filter(rating__service=record).order_by("pk").last()

    def options(grade):
        return [BAD_REASON] if grade in BAD else [GOOD_OPTION]

    if script["first"] is not None:
        attempt(
            day + timedelta(hours=1),
            services.rate_by_token,
            token=token,
            grade=script["first"],
            channel=script["channel"],
            options=options(script["first"]),
        )
    else:
        attempt(day + timedelta(days=8), services.apply_default_ratings)
    if script["appeal"] and ticket():
        attempt(
            day + timedelta(days=1),
            services.file_appeal,
            ticket_id=ticket().pk,
            user=head,
            ground="malicious",
            statement="恶意",
            evidence="叫号记录",
        )
        appeal = Appeal.objects.filter(ticket=ticket(), status="pending").first()
        if appeal is not None and script["appeal"] != "pending":
            attempt(
                day + timedelta(days=2),
                services.decide_appeal,
                appeal_id=appeal.pk,
                user=supervisor,
                upheld=script["appeal"] == "upheld",
                note="复核",
            )
    if script["call"] and ticket():
        attempt(
            day + timedelta(days=1, hours=2),
            services.record_follow_up,
            ticket_id=ticket().pk,
            user=head,
            channel="phone",
            result="reached",
        )
    if script["rectify"] and ticket():
        moment = day + timedelta(days=60 if script["rectify"] == "late" else 3)
        attempt(
            moment, services.start_rectification, ticket_id=ticket().pk, user=head, finding="属实"
        )
        attempt(
            moment,
            services.record_rectification,
            ticket_id=ticket().pk,
            user=head,
            measures="整改",
            result="已整改",
        )
    if script["answer"] and ticket() and record.served_user_id:
        attempt(
            day + timedelta(days=61),
            services.answer_feedback,
            ticket_id=ticket().pk,
            user=record.served_user,
            answer="satisfied",
        )
    if script["second"] is not None and record.served_user_id:
        attempt(
            day + timedelta(days=62),
            services.rate_service_followup,
            service_id=record.pk,
            user=record.served_user,
            grade=script["second"],
            channel="mobile",
            options=[ONLINE_BAD_REASON] if script["second"] in BAD else [],
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scripts=scripts)
def test_rollups_equal_a_brute_force_recount(db, scripts) -> None:
    # given departments in two cities, windows, and a 管理机构 for the province
    supervisor = authority("360000")
    province = Region.objects.get(code="360000")
    cities = [
        RegionFactory(code="360100", name="南昌市", level=2, parent=province),
        RegionFactory(code="360400", name="九江市", level=2, parent=province),
    ]
    departments = [DepartmentFactory(region=city) for city in cities]
    heads = [
        StaffMembershipFactory(department=d, role=StaffRole.DEPT_ADMIN).user for d in departments
    ]
    windows = [WindowFactory(departments=departments) for _ in range(2)]
    # when each service plays its script
    for script in scripts:
        day = MONDAYS[script["month"]]
        department = departments[script["dept"]]
        window = windows[script["window"]]
        with time_machine.travel(day, tick=False):
            record = services.record_window_service(
                clerk=clerk_at(window, department),
                window_id=window.pk,
                department_id=department.pk,
                summary="咨询",
                item_code=f"ITEM{script['dept']}",
                served_user=UserFactory() if script["known"] else None,
            )
        token = services.pad_token(record)
        _run(script, record, token, day, heads[script["dept"]], supervisor)
    # then
    assert _rollups() == _recount()
