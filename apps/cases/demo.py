"""Demo cases for ``manage.py loaddemo``: every state of the life-cycle, for the demo accounts.

``demo-citizen`` (as a person, and once as the demo enterprise's agent) and ``demo-enterprise``
(legal representative of the demo enterprise) each get a case in every ``CaseStatus``, handled
by ``demo-clerk`` (window clerk of the demo department, Nanchang hall) and ``demo-dept-admin``
(its department administrator, who reviews and decides). The office queue, the case screens,
the printable notices and the citizens' pages therefore all show real content.

Every case is driven through ``apps.cases.services``, so its events, audit records, numbers,
handoffs and SLA figures are exactly what the application itself produces. To make the SLA
colours meaningful the history is *replayed*: each step runs at a plausible past moment
(working days before today, office hours), by setting the clock the services read
(``django.utils.timezone.now``) for the duration of that step only. The audit events of the
replay therefore carry the replayed moments too (their sequence numbers show the load order).
What the platform does on its own — Art. 32 deemed acceptance, expiry of a supplement period,
SLA warnings — then runs at the real current time through the same services the beat tasks use.

Idempotent: each demo case carries a tag (``演示办件 <key>``) in its form's ``note`` field; a
scenario whose tagged case exists is skipped, whatever state the case has moved on to since.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from stdnum.iso7064 import mod_37_36

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from apps.cases import services
from apps.cases.constants import CaseStatus, DayUnit, Decision, PauseKind
from apps.cases.materials import wallet_licences
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.catalog.constants import MaterialRequirement
from apps.catalog.licence_types import licence_type_code
from apps.catalog.selectors import published_items
from apps.core import calendar
from apps.core.demo import DemoDataError, Writer
from apps.core.exceptions import DomainError
from apps.core.models import Department, ServiceHall
from apps.handoffs.constants import HandoffState
from apps.handoffs.models import Handoff
from apps.handoffs.services import acknowledge_handoff
from apps.identity.demo import DEMO_DEPARTMENT_USCC, DEMO_HALL_CODE, LEGAL_PERSONS

PSB_USCC = "11360100D00000144P"  # 南昌市公安局 (demo): issuer of the demo ID cards
TAG = "演示办件"

# Items of the demo department (apps/catalog/demo_items.py, kind "samr", city level).
ITEM_SOLE_TRADER = "个体工商户登记"  # promised 1 working day
ITEM_FOOD = "食品生产许可"  # promised 10
ITEM_CHANGE = "企业变更登记"  # promised 2
ITEM_EQUIPMENT = "特种设备使用登记"  # promised 5
ITEM_INDUSTRIAL = "工业产品生产许可"  # promised 30


@dataclass(frozen=True)
class Scenario:
    key: str
    applicant: str  # "citizen" (as a person), "enterprise" (legal rep), "agent" (citizen for it)
    item: str
    state: str
    age: int  # working days between receipt and today; 0: played at real time, no replay


# One case per state per demo applicant, plus a few that show special paths.
_STATES_BY_AGE: tuple[tuple[str, int], ...] = (
    (CaseStatus.DRAFT, 1),
    (CaseStatus.SUBMITTED, 1),
    (CaseStatus.PRECHECKED, 2),
    (CaseStatus.AWAITING_SUPPLEMENT, 2),
    (CaseStatus.SUPPLEMENTED, 3),
    (CaseStatus.ACCEPTED, 1),
    (CaseStatus.NOT_ACCEPTED, 2),
    (CaseStatus.SUPPLEMENT_EXPIRED, 9),
    (CaseStatus.IN_REVIEW, 4),
    (CaseStatus.SUSPENDED, 5),
    (CaseStatus.DECIDED, 6),
    (CaseStatus.COMPLETED, 7),
    (CaseStatus.DELIVERED, 9),
    (CaseStatus.WITHDRAWN, 3),
)
_BEFORE_ACCEPTANCE = {
    CaseStatus.DRAFT,
    CaseStatus.SUBMITTED,
    CaseStatus.PRECHECKED,
    CaseStatus.AWAITING_SUPPLEMENT,
    CaseStatus.SUPPLEMENTED,
    CaseStatus.NOT_ACCEPTED,
    CaseStatus.SUPPLEMENT_EXPIRED,
}


def _scenarios() -> tuple[Scenario, ...]:
    rows: list[Scenario] = []
    for n, (state, age) in enumerate(_STATES_BY_AGE, start=1):
        early = state in _BEFORE_ACCEPTANCE
        rows.append(
            Scenario(f"C{n:02d}", "citizen", ITEM_SOLE_TRADER if early else ITEM_FOOD, state, age)
        )
        rows.append(
            Scenario(
                f"E{n:02d}", "enterprise", ITEM_CHANGE if early else ITEM_EQUIPMENT, state, age
            )
        )
    rows += [
        # Overdue: accepted 8 working days ago with a 5-day limit (red in the queue).
        Scenario("E90", "enterprise", ITEM_EQUIPMENT, CaseStatus.IN_REVIEW, 8),
        # Art. 32: received 7 working days ago, no supplement notice → deemed accepted.
        Scenario("E91", "enterprise", ITEM_INDUSTRIAL, "deemed", 7),
        # The citizen acting as the enterprise's agent (records the authorisation used). Age 0:
        # played at real time, because the demo authorisation starts when loaddemo grants it.
        Scenario("A01", "agent", ITEM_CHANGE, CaseStatus.SUBMITTED, 0),
        # Special procedure ended, deadline extended: a review with pause and extension.
        Scenario("E92", "enterprise", ITEM_INDUSTRIAL, "extended", 12),
        # A walk-in (一窗受理) case at the Nanchang hall, accepted at the window.
        Scenario("C90", "citizen", ITEM_FOOD, "window", 2),
        # 郑秀英 has no account: the clerk checked her ID card against the registry and
        # recorded a phone (issue 16). Registering and verifying as her claims the case.
        Scenario("W01", "walk_in", ITEM_FOOD, "window", 1),
    ]
    return tuple(rows)


SCENARIOS = _scenarios()


@dataclass(frozen=True)
class Cast:
    citizen: Any
    legal_rep: Any
    enterprise: Any
    clerk: Any
    reviewer: Any
    department: Department
    hall: ServiceHall
    versions: dict[str, Any]


# --- the replay clock ----------------------------------------------------------------------


def working_days_ago(days: int, *, today: datetime.date | None = None) -> datetime.date:
    """The date ``days`` working days before ``today`` (``today`` itself for 0)."""
    day = today or timezone.localdate()
    remaining = days
    while remaining > 0:
        day -= datetime.timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


class ReplayClock:
    """A clock for replaying a case's history at past moments (never ahead of real time)."""

    def __init__(self, real_now: datetime.datetime) -> None:
        self.real_now = real_now
        self._moment = real_now
        self._ticks = itertools.count()

    def set(self, days_ago: int, hour: int, minute: int = 0) -> None:
        day = working_days_ago(days_ago, today=timezone.localdate(self.real_now))
        moment = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(hour, minute)),
            timezone.get_default_timezone(),
        )
        # Never in the future: a step "today" before office hours moves back to just now.
        self._moment = min(moment, self.real_now - datetime.timedelta(minutes=30))
        self._ticks = itertools.count()

    def now(self) -> datetime.datetime:
        # A few seconds per reading, so events of one step keep their order on the timeline.
        return self._moment + datetime.timedelta(seconds=2 * next(self._ticks))


@contextmanager
def replaying(clock: ReplayClock, *, live: bool = False) -> Iterator[ReplayClock]:
    """Services read ``clock`` for the duration (or the real time, when ``live``)."""
    if live:
        yield clock
        return
    with mock.patch("django.utils.timezone.now", clock.now):
        yield clock


# --- materials -----------------------------------------------------------------------------


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF (the upload check sniffs the content)."""
    text = f"govportal demo material: {title}".encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\nBT /F1 14 Tf 72 760 Td (%s) Tj ET\nendstream"
        % (len(text) + 32, text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def licence_identifier(type_code: str, holder: str) -> str:
    """A well-formed GB/T 36904 identifier for a demo licence of ``holder`` (DOMAIN.md §3)."""
    issuer = PSB_USCC if type_code == licence_type_code("居民身份证") else DEMO_DEPARTMENT_USCC
    serial = str(int(hashlib.sha256(f"{type_code}:{holder}".encode()).hexdigest()[:12], 16))[:10]
    version = "001"
    check = mod_37_36.calc_check_digit(f"{type_code}{issuer}{serial}{version}")
    return f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.{version}.{check}"


def _supply(case: Case, actor: CaseActor, holder: str, *, only: set[str] | None = None) -> None:
    """Provide every required slot: an e-licence reference where the slot accepts one (免提交),
    otherwise a PDF upload."""
    for slot in case.item_version.materials.all().order_by("order", "pk"):
        if slot.requirement != MaterialRequirement.REQUIRED:
            continue
        if only is not None and slot.key not in only:
            continue
        if slot.licence_types and _supply_from_wallet(case, actor, slot, holder):
            continue
        else:
            services.add_material_upload(
                case_id=case.pk,
                actor=actor,
                slot_key=slot.key,
                upload=SimpleUploadedFile(
                    f"{slot.name}.pdf", demo_pdf(slot.key), content_type="application/pdf"
                ),
            )


def _supply_from_wallet(case: Case, actor: CaseActor, slot: Any, holder: str) -> bool:
    """免提交 from the applicant's wallet when it holds a licence of an accepted type (the
    licences app's demo issues them); without the licences app, a well-formed demo identifier.
    ``False`` when no licence can be used, and the slot takes an upload instead."""
    held = wallet_licences(
        user=case.applicant_user or case.acting_user,
        enterprise=case.enterprise,
        licence_types=list(slot.licence_types),
    )
    identifier = held[0].identifier if held else licence_identifier(slot.licence_types[0], holder)
    try:
        services.add_material_licence(
            case_id=case.pk, actor=actor, slot_key=slot.key, identifier=identifier
        )
    except DomainError:
        return False
    return True


def _uploadable_slot(case: Case) -> Any:
    slots = [
        slot
        for slot in case.item_version.materials.all().order_by("order", "pk")
        if slot.requirement == MaterialRequirement.REQUIRED and not slot.licence_types
    ]
    if not slots:
        raise DemoDataError(f"demo item {case.item_version.name} has no slot to supplement")
    return slots[-1]


# --- scenarios -----------------------------------------------------------------------------


# The demo's walk-in without an account (a resident of the demo population registry).
WALK_IN_NAME = "郑秀英"
WALK_IN_PHONE = "13900001024"


def _walk_in_resident() -> Any:
    from apps.identity.demo import POPULATION

    return next(person for person in POPULATION if person.name == WALK_IN_NAME)


def _form(cast: Cast, scenario: Scenario) -> dict[str, Any]:
    """The demo form as each applicant kind fills it in (catalog demo APPLICATION_SCHEMA)."""
    person = cast.citizen if scenario.applicant in ("citizen", "agent") else cast.legal_rep
    common = {"mobile": person.person.phone, "note": f"{TAG} {scenario.key}"}
    if scenario.applicant == "walk_in":
        walk_in = _walk_in_resident()
        return {
            "note": f"{TAG} {scenario.key}",
            "applicant_name": walk_in.name,
            "id_number": walk_in.id_number,
            "mobile": WALK_IN_PHONE,
            "agree": True,
        }
    if scenario.applicant == "citizen":
        return {
            **common,
            "applicant_name": person.person.name,
            "id_number": person.person.id_number,
            "address": "南昌市东湖区八一大道 1 号",
            "agree": True,
        }
    unit = {
        **common,
        "enterprise_name": cast.enterprise.name,
        "uscc": cast.enterprise.uscc,
        "agree_unit": True,
    }
    if scenario.applicant == "agent":
        return {
            **unit,
            "agent_name": person.person.name,
            "agent_id_number": person.person.id_number,
        }
    return {**unit, "contact_name": person.display_name}


def _exists(scenario: Scenario) -> bool:
    return Case.objects.filter(form_data__note=f"{TAG} {scenario.key}").exists()


def _play(cast: Cast, scenario: Scenario, clock: ReplayClock) -> Case:
    """Drive one case through the services to the scenario's state."""
    acting = cast.legal_rep if scenario.applicant == "enterprise" else cast.citizen
    enterprise = cast.enterprise if scenario.applicant in ("enterprise", "agent") else None
    holder = enterprise.uscc if enterprise is not None else acting.username
    me = CaseActor.of(acting)
    window = CaseActor.of(cast.clerk)
    dept = CaseActor.of(cast.reviewer)
    version = cast.versions[scenario.item]
    age = scenario.age
    state = scenario.state

    if scenario.applicant == "walk_in":
        from apps.identity.services import identify_at_window

        clock.set(age, 10, 15)
        resident = _walk_in_resident()
        found = identify_at_window(
            clerk=cast.clerk,
            name=resident.name,
            id_number=resident.id_number,
            phone=WALK_IN_PHONE,
        )
        return services.create_window_case(
            clerk=cast.clerk,
            version=version,
            applicant_user=None,
            walk_in_person=found.walk_in_person,
            form_data=_form(cast, scenario),
            received_keys=[m.key for m in version.materials.all() if m.requirement == "required"],
            hall=cast.hall,
        )
    if state == "window":
        clock.set(age, 9, 40)
        return services.create_window_case(
            clerk=cast.clerk,
            version=version,
            applicant_user=acting,
            form_data=_form(cast, scenario),
            received_keys=[m.key for m in version.materials.all() if m.requirement == "required"],
            hall=cast.hall,
        )

    clock.set(age, 9, 10)
    case = services.create_draft(
        user=acting, version=version, enterprise=enterprise, form_data=_form(cast, scenario)
    )
    if state == CaseStatus.DRAFT:
        _supply(case, me, holder, only={_uploadable_slot(case).key})
        return case
    _supply(case, me, holder)
    services.submit_case(case_id=case.pk, actor=me)
    if state in (CaseStatus.SUBMITTED, "deemed"):
        return case  # "deemed": the Art. 32 rule is applied at real time below
    if state == CaseStatus.PRECHECKED:
        clock.set(age - 1, 10, 5)
        services.precheck_case(case_id=case.pk, actor=window, note="网上预审通过，请按时受理")
        return case
    if state == CaseStatus.NOT_ACCEPTED:
        clock.set(age - 1, 10, 20)
        services.reject_case(
            case_id=case.pk,
            actor=window,
            reason="申请事项依法不属于本机关职权范围",
            legal_basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项",
            redirect_to="南昌市东湖区市场监督管理局",
        )
        return case
    if state in (
        CaseStatus.AWAITING_SUPPLEMENT,
        CaseStatus.SUPPLEMENTED,
        CaseStatus.SUPPLEMENT_EXPIRED,
    ):
        slot = _uploadable_slot(case)
        clock.set(age - 1, 10, 30)
        services.request_supplement(
            case_id=case.pk,
            actor=window,
            items=[{"key": slot.key, "reason": "申请书未经申请人签字，请签字后重新提交"}],
            due_days=3 if state == CaseStatus.SUPPLEMENT_EXPIRED else 5,
            due_unit=DayUnit.WORKING,
            note="申请材料不齐全，现一次性告知需要补正的全部内容",
        )
        if state == CaseStatus.SUPPLEMENTED:
            clock.set(age - 2, 15, 0)
            _supply(case, me, holder, only={slot.key})
            services.resubmit_case(case_id=case.pk, actor=me, note="已按告知补正")
        return case  # SUPPLEMENT_EXPIRED: the period runs out at real time below

    clock.set(age, 11, 0)
    services.accept_case(case_id=case.pk, actor=window, note="材料齐全，予以受理")
    if state == CaseStatus.ACCEPTED:
        return case
    if state == CaseStatus.WITHDRAWN:
        clock.set(age - 1, 14, 0)
        services.withdraw_case(case_id=case.pk, actor=me, reason="经营计划调整，暂不办理")
        return case
    clock.set(age - 1, 9, 30)
    services.start_review(case_id=case.pk, actor=dept, note="开始审查")
    if state == "extended":
        clock.set(age - 2, 10, 0)
        services.suspend_case(
            case_id=case.pk, actor=dept, kind=PauseKind.EXPERT_REVIEW, reason="组织专家评审"
        )
        clock.set(age - 6, 16, 0)
        services.resume_case(case_id=case.pk, actor=dept, result="专家评审通过")
        clock.set(age - 7, 9, 0)
        services.extend_case(
            case_id=case.pk, actor=dept, days=10, reason="情况复杂，经本机关负责人批准延长十日"
        )
        return case
    if state == CaseStatus.IN_REVIEW:
        return case
    if state == CaseStatus.SUSPENDED:
        clock.set(age - 2, 10, 0)
        services.suspend_case(
            case_id=case.pk,
            actor=dept,
            kind=PauseKind.ON_SITE,
            reason="需对生产场所进行现场核查",
        )
        return case
    clock.set(age - 3, 15, 30)
    services.decide_case(
        case_id=case.pk,
        actor=dept,
        decision=Decision.APPROVED,
        reason="",
        result_data={"result_name": version.result_name or "准予许可决定书"},
        complete=state != CaseStatus.DECIDED,
    )
    if state in (CaseStatus.DECIDED, CaseStatus.COMPLETED):
        return case
    clock.set(age - 4, 10, 0)
    services.deliver_case(case_id=case.pk, actor=window, method="window", note="窗口领取")
    return case


def _settle(case: Case, scenario: Scenario) -> None:
    """What the platform does on its own, at the real current time (beat-task services)."""
    if scenario.state == "deemed":
        services.deem_case_accepted(case_id=case.pk)
    elif scenario.state == CaseStatus.SUPPLEMENT_EXPIRED:
        services.expire_supplement(case_id=case.pk)


def _sign_for_past_handoffs(cases: list[Case]) -> None:
    """The departments signed for the handoffs of replayed cases back then, and for what those
    cases set off on the same days (licence status changes for the subscribing platform).

    Those handoffs are dated on the replayed days; left open (delivered to an office queue
    before the demo endpoints exist, or still pending for the worker of a real broker), /healthz
    of a fresh demo would report a handoff waiting for weeks, and the worker would push
    weeks-old cases to the demo department when the demo starts. Each is signed for ten minutes
    after it was created, through the same service as the office queue's 签收; the delivery
    task of a signed-for handoff does nothing.
    """
    replayed = Q(subject_type="cases.case", subject_id__in=[str(case.pk) for case in cases])
    # What the replayed decisions set off on those days: licence status changes for the
    # subscribers (the national sharing platform), also dated back then.
    set_off = Q(created_at__lt=timezone.now() - datetime.timedelta(minutes=10))
    rows = Handoff.objects.filter(
        replayed | set_off, state__in=(HandoffState.PENDING, HandoffState.DELIVERED)
    ).values_list("pk", "target_department_id", "created_at")
    for handoff_id, department_id, created_at in rows:
        department = Department.objects.get(pk=department_id)
        signed_at = created_at + datetime.timedelta(minutes=10)
        with mock.patch("django.utils.timezone.now", lambda moment=signed_at: moment):
            acknowledge_handoff(handoff_id=handoff_id, department=department)


# --- the loader ----------------------------------------------------------------------------


def _cast() -> Cast:
    from apps.identity.models import User

    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    missing = {"demo-citizen", "demo-enterprise", "demo-clerk", "demo-dept-admin"} - set(users)
    if missing:
        raise DemoDataError(f"cases demo: demo accounts missing: {sorted(missing)}")
    department = Department.objects.filter(uscc=DEMO_DEPARTMENT_USCC).first()
    hall = ServiceHall.objects.filter(code=DEMO_HALL_CODE).first()
    if department is None or hall is None:
        raise DemoDataError("cases demo: the demo department and hall must be loaded first")
    legal_rep = users["demo-enterprise"]
    enterprise = legal_rep.represented_enterprises.filter(uscc=LEGAL_PERSONS[0].uscc).first()
    if enterprise is None:
        raise DemoDataError("cases demo: the demo enterprise must be loaded first")
    names = {s.item for s in SCENARIOS}
    items = published_items().filter(department=department, name__in=names)
    versions = {item.name: item.current_version for item in items}
    if set(versions) != names:
        raise DemoDataError(f"cases demo: demo items missing: {sorted(names - set(versions))}")
    return Cast(
        citizen=users["demo-citizen"],
        legal_rep=legal_rep,
        enterprise=enterprise,
        clerk=users["demo-clerk"],
        reviewer=users["demo-dept-admin"],
        department=department,
        hall=hall,
        versions=versions,
    )


def load_cases_demo(*, stdout: Writer) -> dict[str, int]:
    """Create the demo cases that do not exist yet, then raise SLA warnings. Idempotent."""
    cast = _cast()
    clock = ReplayClock(timezone.now())
    created: list[tuple[Case, Scenario]] = []
    for scenario in SCENARIOS:
        if _exists(scenario):
            continue
        with replaying(clock, live=scenario.age == 0):
            case = _play(cast, scenario, clock)
        created.append((case, scenario))
    for case, scenario in created:
        _settle(case, scenario)
    _sign_for_past_handoffs([case for case, scenario in created if scenario.age > 0])
    warnings = services.raise_sla_warnings() if created else {"yellow": 0, "red": 0}
    stdout.write(
        f"  办件: 新增 {len(created)} 件，已存在 {len(SCENARIOS) - len(created)} 件；"
        f"预警 黄 {warnings['yellow']} 红 {warnings['red']}\n"
    )
    return {
        "cases_created": len(created),
        "cases_existing": len(SCENARIOS) - len(created),
        "warnings_raised": warnings["yellow"] + warnings["red"],
    }


def demo_case_states() -> dict[str, set[str]]:
    """The states of the demo cases per demo applicant (for tests and the summary)."""
    states: dict[str, set[str]] = {}
    for key, status in Case.objects.filter(form_data__note__startswith=TAG).values_list(
        "form_data__note", "status"
    ):
        states.setdefault(str(key).split()[-1][0], set()).add(status)
    return states
