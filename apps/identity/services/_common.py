"""Input cleaning shared by the identity services."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.core.exceptions import DomainError
from apps.identity.validators import clean_id_number, clean_phone, validate_uscc


def _first_message(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else str(exc)


def _clean_id(value: str) -> str:
    try:
        return clean_id_number(value)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_id_number") from exc


def _clean_phone(value: str) -> str:
    try:
        return clean_phone(value)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_phone") from exc


def _clean_uscc(value: str) -> str:
    number = "".join((value or "").split()).upper()
    try:
        validate_uscc(number)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_uscc") from exc
    return number
