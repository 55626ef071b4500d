"""好差评 demo data (issue 12, Deliver 7): 12 months of ratings over the demo halls, windows
and clerks, 差评 in every state of the loop, one upheld and one pending appeal.

Everything goes through the services at past moments (``timezone.now`` is replayed, as in the
cases demo), so the rollups, tickets and audit trail are exactly what real use would produce.
Idempotent: nothing is added once the demo services exist.
"""

from __future__ import annotations

import datetime
import random
from typing import Any, Protocol
from unittest import mock

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.demo import DemoDataError
from apps.core.models import Department, ServiceWindow
from apps.identity.constants import StaffRole
from apps.identity.models import StaffMembership
from apps.reviews import services
from apps.reviews.constants import BAD_GRADES, Grade, RatingChannel
from apps.reviews.indicators import ensure_indicator_sets
from apps.reviews.models import Rating, ServiceAuthority, ServiceRecord

TAG = "【演示】"
AUTHORITY_USCC = "11360000D00000136P"  # 江西省政务服务管理办公室 (apps/core/data/demo_org.json)
SUPERVISOR = "demo-reviews-office"
DEMO_PASSWORD = "govportal-demo"  # noqa: S105 - the documented demo password
SERVICES_PER_WINDOW_MONTH = 2
GRADES = (
    [Grade.VERY_SATISFIED] * 55
    + [Grade.SATISFIED] * 25
    + [Grade.BASICALLY_SATISFIED] * 10
    + [Grade.DISSATISFIED] * 6
    + [Grade.VERY_DISSATISFIED] * 4
)
SUMMARIES = [
    "营业执照登记",
    "社保卡补办",
    "不动产登记咨询",
    "户籍证明开具",
    "公积金提取",
    "医保备案",
]
BAD_REASONS = {"hall_pad": ["60151", "60251", "60351"], "qr": ["60152", "60252", "60352"]}


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...


def _at(moment: datetime.datetime) -> Any:
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _supervisor() -> Any:
    """The demo 管理机构 account (SUPERVISOR at 江西省政务服务管理办公室)."""
    from apps.identity import services as identity

    authority = Department.objects.filter(uscc=AUTHORITY_USCC).first()
    if authority is None:
        raise DemoDataError("the core demo data (departments) must be loaded first")
    ServiceAuthority.objects.get_or_create(department=authority)
    user = get_user_model().objects.filter(username=SUPERVISOR).first()
    if user is None:
        user = identity.create_person_account(
            username=SUPERVISOR, password=DEMO_PASSWORD, phone="13800000012"
        )
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    StaffMembership.objects.get_or_create(
        user=user, department=authority, role=StaffRole.SUPERVISOR, defaults={"is_active": True}
    )
    return user


def _clerk_for(window: ServiceWindow, department: Department, cache: dict) -> Any:
    key = (window.pk, department.pk)
    if key not in cache:
        membership = StaffMembership.objects.filter(
            department=department, role=StaffRole.CLERK, is_active=True
        ).first()
        if membership is None:
            User = get_user_model()
            username = f"demo-window-{window.hall.code.lower()}-{window.number}"
            user = User.objects.filter(username=username).first() or User.objects.create_user(
                username=username, password=None, is_staff=True
            )
            membership, _ = StaffMembership.objects.get_or_create(
                user=user,
                department=department,
                role=StaffRole.CLERK,
                defaults={"hall": window.hall, "window": window, "is_active": True},
            )
        cache[key] = membership.user
    return cache[key]


def _demo_head(department_id: int) -> Any:
    """A department administrator (no password: shown in the trail, never signs in)."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=f"demo-head-{department_id}", defaults={"is_staff": True}
    )
    StaffMembership.objects.get_or_create(
        user=user,
        department_id=department_id,
        role=StaffRole.DEPT_ADMIN,
        defaults={"is_active": True},
    )
    return user


def load_reviews_demo(*, stdout: Writer) -> dict[str, int]:
    if ServiceRecord.objects.filter(summary__startswith=TAG).exists():
        stdout.write("  好差评: 演示数据已存在\n")
        return {"services_created": 0}
    ensure_indicator_sets()
    supervisor = _supervisor()
    citizen = get_user_model().objects.filter(username="demo-citizen").first()
    rng = random.Random(12)  # noqa: S311 - demo data, not security
    windows = list(
        ServiceWindow.objects.filter(is_active=True)
        .select_related("hall")
        .prefetch_related("departments")
        .order_by("hall__code", "number")
    )
    now = timezone.now()
    clerks: dict = {}
    bad: list[Rating] = []
    created = 0
    for months_ago in range(11, -1, -1):
        for window in windows:
            departments = list(window.departments.all())
            if not departments:
                continue
            for n in range(SERVICES_PER_WINDOW_MONTH):
                day = now - datetime.timedelta(days=30 * months_ago + rng.randint(8, 28))
                moment = day.replace(hour=9 + rng.randint(0, 7), minute=rng.randint(0, 59))
                department = departments[(n + months_ago) % len(departments)]
                clerk = _clerk_for(window, department, clerks)
                grade = rng.choice(GRADES) if rng.random() >= 0.12 else None
                # 差评 come from the demo citizen (real name), so the feedback loop is visible.
                served = citizen if grade in BAD_GRADES else None
                with _at(moment):
                    service = services.record_window_service(
                        clerk=clerk,
                        window_id=window.pk,
                        department_id=department.pk,
                        summary=TAG + rng.choice(SUMMARIES),
                        served_user=served,
                    )
                created += 1
                if grade is None:
                    continue  # left unrated: becomes the system default below
                channel = rng.choice([RatingChannel.HALL_PAD, RatingChannel.QR])
                options = [rng.choice(BAD_REASONS[channel])] if grade in BAD_GRADES else []
                with _at(moment + datetime.timedelta(minutes=3)):
                    rating = services.rate_by_token(
                        token=services.pad_token(service),
                        grade=grade,
                        channel=channel,
                        options=options,
                        comment="等候时间太长" if grade in BAD_GRADES else "",
                    )
                if grade in BAD_GRADES:
                    bad.append(rating)
    loop = _play_loop(bad, supervisor, now)
    defaults = services.apply_default_ratings(limit=10000)
    stdout.write(
        f"  好差评: 新增服务 {created} 次，差评 {len(bad)} 条，系统默认评价 {defaults} 条\n"
    )
    return {"services_created": created, "bad": len(bad), "defaults": defaults, **loop}


def _play_loop(bad: list[Rating], supervisor: Any, now: datetime.datetime) -> dict[str, int]:
    """Old 差评 are rectified and closed; the last few stop in each state of the loop."""
    states = {"new": 0, "verifying": 0, "rectifying": 0, "awaiting": 0, "closed": 0}
    recent_first = sorted(bad, key=lambda r: r.created_at, reverse=True)
    heads = {
        m.department_id: m.user
        for m in StaffMembership.objects.filter(role=StaffRole.DEPT_ADMIN, is_active=True)
    }
    # The department administrator appeals: the two most recent 差评 of a department with one
    # become a pending appeal and an upheld one.
    # (never a 差评 of the 管理机构's own department: it cannot decide its own appeal)
    appealable = [r for r in recent_first if r.ticket.department.uscc != AUTHORITY_USCC][:2]
    for rating in appealable:
        department_id = rating.ticket.department_id
        if department_id not in heads:
            heads[department_id] = _demo_head(department_id)
    for rating, upheld in zip(appealable, (False, True), strict=False):
        ticket = rating.ticket
        with _at(rating.created_at + datetime.timedelta(hours=2)):
            appeal = services.file_appeal(
                ticket_id=ticket.pk,
                user=heads[ticket.department_id],
                ground="mistaken",
                statement="评价对应的业务不属于本窗口办理",
                evidence="叫号系统记录、窗口监控截图",
            )
        if upheld:
            with _at(rating.created_at + datetime.timedelta(days=1)):
                services.decide_appeal(
                    appeal_id=appeal.pk,
                    user=supervisor,
                    upheld=True,
                    note="经核查叫号与监控记录，该评价系误评，申诉成立",
                )
    stops = ["new", "verifying", "rectifying", "awaiting"]
    rest = [r for r in recent_first if r not in appealable]
    for index, rating in enumerate(rest):
        ticket = rating.ticket
        worker = ticket.staff
        start = rating.created_at
        stop = stops[index] if index < len(stops) else "closed"
        if stop == "new":
            states["new"] += 1
            continue
        with _at(start + datetime.timedelta(hours=4)):
            services.record_follow_up(
                ticket_id=ticket.pk,
                user=worker,
                channel="phone",
                result="reached",
                note="已电话联系评价人，核实等候时间过长的情况",
            )
        if stop == "verifying":
            states["verifying"] += 1
            continue
        with _at(start + datetime.timedelta(days=1)):
            services.start_rectification(
                ticket_id=ticket.pk,
                user=worker,
                finding="高峰时段窗口人员不足，排队时间超过 1 小时",
            )
        if stop == "rectifying":
            states["rectifying"] += 1
            continue
        with _at(start + datetime.timedelta(days=3)):
            services.record_rectification(
                ticket_id=ticket.pk,
                user=worker,
                measures="高峰时段增开综合窗口，推行预约错峰办理",
                result="平均等候时间由 65 分钟降至 15 分钟",
            )
        ticket.refresh_from_db()
        if ticket.status == "awaiting_feedback" and stop == "awaiting":
            states["awaiting"] += 1
            continue
        if ticket.status == "awaiting_feedback":
            with _at(min(start + datetime.timedelta(days=4), now)):
                services.answer_feedback(ticket_id=ticket.pk, user=rating.rater, answer="satisfied")
        states["closed"] += 1
    return {**states, "appeals": len(appealable)}
