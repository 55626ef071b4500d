"""L3 real-person verification (实人认证, DOMAIN.md §4.2): pluggable providers.

Production plugs in a live-face service, the national 网证 (CTID) or a bank-card four-factor
service by setting ``IDENTITY_L3_BACKEND`` to a class with a ``method`` (an
``AssuranceMethod`` of L3) and ``verify(person=..., data=...) -> VerificationOutcome``. The
backend only answers yes or no; ``services.verify_level_three`` records the raise and audits
it. Nothing a backend is given (card numbers in particular) is stored.

``DevelopmentBankCardBackend`` is the stand-in for development, tests and the demo: it checks
name + ID number against the population registry and against the person's own verified
number, the phone against the person's registered phone, and the bank card number by its
Luhn check digit. It talks to no bank.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from stdnum import luhn

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from apps.identity.constants import AssuranceMethod, RegistryStatus
from apps.identity.models import Person, PopulationRecord
from apps.identity.pii import id_number_index, phone_index


@dataclass(frozen=True)
class VerificationOutcome:
    passed: bool
    message: str = ""


class L3Backend(Protocol):
    method: str

    def verify(self, *, person: Person, data: dict[str, Any]) -> VerificationOutcome: ...


class DevelopmentBankCardBackend:
    """Bank-card four factors (name, ID number, phone, card number), development stand-in."""

    method = AssuranceMethod.BANK_FOUR_FACTOR

    def verify(self, *, person: Person, data: dict[str, Any]) -> VerificationOutcome:
        index = id_number_index(data["id_number"])
        if person.id_number_index is None or not hmac.compare_digest(person.id_number_index, index):
            return VerificationOutcome(False, _("身份证号码与您实名核验时的号码不一致"))
        record = PopulationRecord.objects.filter(id_number_index=index).first()
        if (
            record is None
            or record.status != RegistryStatus.NORMAL
            or record.name != data["name"].strip()
            or person.name != record.name
        ):
            return VerificationOutcome(False, _("姓名与身份证号码不一致，或人口库中无此记录"))
        if person.phone_index is None or person.phone_index != phone_index(data["phone"]):
            return VerificationOutcome(False, _("手机号码与您注册的手机号码不一致"))
        card = data["card_number"]
        if not (16 <= len(card) <= 19) or not luhn.is_valid(card):
            return VerificationOutcome(False, _("银行卡号校验不通过，请核对后重新输入"))
        return VerificationOutcome(True)


@lru_cache(maxsize=4)
def _backend_class(path: str) -> type:
    return import_string(path)


def get_l3_backend() -> L3Backend:
    return _backend_class(settings.IDENTITY_L3_BACKEND)()
