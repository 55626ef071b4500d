"""Configuration of the 好差评 rules by administrators: a region's time limits, the words that
hold a comment for moderation, and which department is a region's 政务服务管理机构.

The Django admin saves and deletes these rows through here so that every change is audited
with its before and after values (the admin wraps each save in its own transaction, so these
are plain ``atomic`` blocks, not durable ones).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.forms.models import model_to_dict

from apps.audit.services import record_audit_event
from apps.reviews.models import ModerationWord, ReviewPolicy, ServiceAuthority

CONFIGURATION_MODELS = (ReviewPolicy, ModerationWord, ServiceAuthority)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {k: v for k, v in model_to_dict(obj).items() if k != "id"}


def _check(obj: models.Model) -> None:
    if not isinstance(obj, CONFIGURATION_MODELS):
        raise TypeError(f"{type(obj).__name__} is not a reviews configuration model")


@transaction.atomic
def save_configuration(*, obj: models.Model, actor: Any) -> models.Model:
    """Validate and save one configuration row, audited as created or changed."""
    _check(obj)
    before = None
    if obj.pk is not None:
        previous = type(obj).objects.select_for_update().filter(pk=obj.pk).first()
        before = _snapshot(previous) if previous is not None else None
    obj.full_clean()
    obj.save()
    verb = "changed" if before is not None else "created"
    record_audit_event(
        actor=actor,
        action=f"reviews.{obj._meta.model_name}_{verb}",
        obj=obj,
        data={"before": before, "after": _snapshot(obj)},
    )
    return obj


@transaction.atomic
def delete_configuration(*, obj: models.Model, actor: Any) -> None:
    """Delete one configuration row, audited with what it held."""
    _check(obj)
    data = {"before": _snapshot(obj)}
    object_type, object_id = obj._meta.label_lower, obj.pk
    name = obj._meta.model_name
    obj.delete()
    record_audit_event(
        actor=actor,
        action=f"reviews.{name}_deleted",
        object_type=object_type,
        object_id=object_id,
        data=data,
    )
