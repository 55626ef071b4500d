"""Demo data of the handoffs app (``loaddemo``; idempotent).

Two demo department systems, played by ``manage.py department_simulator`` processes that
``make demo`` starts beside the web server (see README "The two commands" and
docs/handoffs.md "The demo"):

* the demo department (南昌市市场监督管理局, where the demo cases are accepted) receives
  **push** handoffs at ``DEMO_PUSH_URL``, signed with key ``demo-k1``; its system answers
  "received" and, a few seconds later, a decision through the ``demo-dept-api`` client;
* 南昌市行政审批局 is a **pull** department: its system polls the inbox with the
  ``demo-pull-api`` client (secret ``govportal-demo-secret``). One demo handoff is waiting
  for it, so the pull flow is visible right away.
* the water, power, gas and network companies of 二手房水电气网联动过户 are **pull**
  departments too, each with its own client (``UTILITY_CLIENTS``, same demo secret): a
  simulator started with ``--mode pull --client-id demo-water-api`` plays the water company.
* the national e-licence sharing platform (subscribed to licence status changes by the
  licences demo) is a **pull** department too, with the client ``demo-national-api``.
"""

from __future__ import annotations

import os
from typing import Protocol

from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import Application

from apps.audit.services import record_audit_event
from apps.core.demo import DemoDataError
from apps.core.models import Department
from apps.handoffs.constants import DeliveryMode
from apps.handoffs.models import DepartmentEndpoint, SigningKey
from apps.handoffs.services import SubjectRef, enqueue_handoff
from apps.identity.constants import ApiScope
from apps.identity.demo import DEMO_CLIENT_SECRET, DEMO_DEPARTMENT_USCC
from apps.identity.models import ApiClient

DEMO_SIMULATOR_PORT = int(os.environ.get("DEMO_SIMULATOR_PORT", "8766"))
DEMO_PUSH_URL = f"http://127.0.0.1:{DEMO_SIMULATOR_PORT}/"
DEMO_KEY_ID = "demo-k1"
DEMO_KEY_SECRET = "demo-handoff-secret-please-rotate"  # noqa: S105 - published demo key
DEMO_PULL_DEPARTMENT_USCC = "11360100D000002326"  # 南昌市行政审批局
DEMO_PULL_CLIENT_ID = "demo-pull-api"
DEMO_PULL_HANDOFF_KEY = "demo:pull:notice:1"
# Utility companies of demo_org.json → the client their simulator polls the inbox with.
UTILITY_CLIENTS = {
    "91360100D00000355Y": "demo-water-api",
    "91360100D00000363R": "demo-power-api",
    "91360100D00000371L": "demo-gas-api",
    "91360100D00000398C": "demo-network-api",
}
# The national e-licence sharing platform (core demo data) → its pull client.
NATIONAL_LICENCE_PLATFORM = ("11360000D0000900X7", "demo-national-api")


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


def _endpoint(department: Department, **values: object) -> bool:
    endpoint = DepartmentEndpoint.objects.filter(department=department).first()
    if endpoint is None:
        endpoint = DepartmentEndpoint(department=department)
    changed = endpoint.pk is None
    for field, value in values.items():
        if getattr(endpoint, field) != value:
            setattr(endpoint, field, value)
            changed = True
    if changed:
        endpoint.full_clean()
        endpoint.save()
    if values.get("mode") == DeliveryMode.PUSH:
        key = SigningKey.objects.filter(endpoint=endpoint, key_id=DEMO_KEY_ID).first()
        if key is None or (key.secret, key.is_active) != (DEMO_KEY_SECRET, True):
            SigningKey.objects.update_or_create(
                endpoint=endpoint,
                key_id=DEMO_KEY_ID,
                defaults={"secret": DEMO_KEY_SECRET, "is_active": True, "deactivated_at": None},
            )
            changed = True
    return changed


def _pull_client(department: Department, client_id: str = DEMO_PULL_CLIENT_ID) -> bool:
    app = Application.objects.filter(client_id=client_id).first()
    changed = False
    if app is None:
        app = Application(
            client_id=client_id,
            name=client_id,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        )
    if app.pk is None or not check_password(DEMO_CLIENT_SECRET, app.client_secret):
        app.client_secret = DEMO_CLIENT_SECRET
        app.hash_client_secret = True
        app.save()
        changed = True
    scopes = " ".join([ApiScope.HANDOFFS, ApiScope.CASES_READ, ApiScope.CASES_WRITE])
    client = ApiClient.objects.filter(application=app).first()
    if client is None or (client.department_id, client.allowed_scopes) != (department.pk, scopes):
        ApiClient.objects.update_or_create(
            application=app, defaults={"department": department, "allowed_scopes": scopes}
        )
        changed = True
    return changed


@transaction.atomic(durable=True)
def load_handoffs_demo(*, stdout: Writer) -> dict[str, int]:
    push_department = Department.objects.filter(uscc=DEMO_DEPARTMENT_USCC).first()
    pull_department = Department.objects.filter(uscc=DEMO_PULL_DEPARTMENT_USCC).first()
    if push_department is None or pull_department is None:
        raise DemoDataError("handoffs demo: the core demo departments must be loaded first")
    changed = _endpoint(
        push_department,
        mode=DeliveryMode.PUSH,
        push_url=DEMO_PUSH_URL,
        timeout_seconds=5,
        max_attempts=10,
        is_active=True,
    )
    changed |= _endpoint(pull_department, mode=DeliveryMode.PULL, push_url="", is_active=True)
    changed |= _pull_client(pull_department)
    pull_clients = dict([*UTILITY_CLIENTS.items(), NATIONAL_LICENCE_PLATFORM])
    utilities = Department.objects.in_bulk(list(pull_clients), field_name="uscc")
    for uscc, client_id in pull_clients.items():
        if uscc not in utilities:
            raise DemoDataError(f"handoffs demo: pull department {uscc} not loaded")
        company = utilities[uscc]
        changed |= _endpoint(company, mode=DeliveryMode.PULL, push_url="", is_active=True)
        changed |= _pull_client(company, client_id)
    # One handoff waiting in the pull department's inbox (idempotent by its key).
    enqueue_handoff(
        subject=SubjectRef("demo.notice", "1", "DEMO-PULL-1"),
        event="demo.notice",
        source_department=push_department,
        target_department=pull_department,
        payload={"note": "演示：以拉取方式交给南昌市行政审批局的交接"},
        idempotency_key=DEMO_PULL_HANDOFF_KEY,
    )
    if changed:
        record_audit_event(
            actor=None,
            action="handoffs.demo_loaded",
            object_type="handoffs.departmentendpoint",
            data={
                "push": push_department.uscc,
                "push_url": DEMO_PUSH_URL,
                "pull": pull_department.uscc,
                "pull_client": DEMO_PULL_CLIENT_ID,
                "utility_clients": sorted(UTILITY_CLIENTS.values()),
                "national_licence_client": NATIONAL_LICENCE_PLATFORM[1],
            },
        )
    stdout.write(
        f"  交接: {push_department.name} 推送至 {DEMO_PUSH_URL}（密钥 {DEMO_KEY_ID}），"
        f"{pull_department.name} 拉取（客户端 {DEMO_PULL_CLIENT_ID}）\n"
    )
    return {"endpoints_changed": int(changed)}
