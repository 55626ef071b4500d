"""Answer handlers per subject type (STYLE.md L3, L5).

The app that owns a subject (``cases`` for ``cases.case``) registers, in its
``AppConfig.ready()``, the function that applies a department's answer to it::

    register_answer_handler("cases.case", apply_department_answer)

The handler is called as ``fn(handoff=..., answer=...)`` inside the transaction that records
the answer, once per answer idempotency key; it may raise ``DomainError`` to refuse the answer
(nothing is then recorded).

A subject with an answer handler is **bound to its target department** by default: the owner
decides who may answer (for a case, only the case's department, 行政许可 jurisdiction), so a
dead letter of such a handoff cannot be re-routed to another department — its department
corrects its endpoint (URL, mode, key) and the administrator retries. Register with
``target_fixed=False`` for subjects whose handler accepts any target's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AnswerHandler = Callable[..., Any]

_handlers: dict[str, AnswerHandler] = {}
_fixed_targets: set[str] = set()
# What the office screens call an event (``case.accepted``): the owning app registers a
# translatable label; the raw name is for logs and the API.
_event_labels: dict[str, Any] = {}


def register_answer_handler(
    subject_type: str, fn: AnswerHandler, *, target_fixed: bool = True
) -> None:
    """Register ``fn`` for ``subject_type`` (a model label such as ``cases.case``).

    Registering the same function again is a no-op; a different one replaces it (tests).
    """
    _handlers[subject_type.lower()] = fn
    if target_fixed:
        _fixed_targets.add(subject_type.lower())
    else:
        _fixed_targets.discard(subject_type.lower())


def unregister_answer_handler(subject_type: str) -> None:
    _handlers.pop(subject_type.lower(), None)
    _fixed_targets.discard(subject_type.lower())


def is_target_fixed(subject_type: str) -> bool:
    """Whether handoffs of ``subject_type`` must stay with their target department."""
    return subject_type.lower() in _fixed_targets


def get_answer_handler(subject_type: str) -> AnswerHandler | None:
    return _handlers.get(subject_type.lower())


def register_event_labels(labels: dict[str, Any]) -> None:
    """Register human labels (lazy translations) for event names, e.g.
    ``{"case.accepted": _("办件已受理，推送审批部门")}``."""
    _event_labels.update({key.lower(): label for key, label in labels.items()})


def event_label(event: str) -> str:
    """The event's label, or the raw name when no app registered one."""
    label = _event_labels.get(event.lower())
    return str(label) if label is not None else event


def subject_type_label(subject_type: str) -> str:
    """A model label (``cases.case``) as the model's verbose name (办件); other subject types
    (``demo.notice``) as they are."""
    from django.apps import apps

    try:
        model = apps.get_model(subject_type)
    except (LookupError, ValueError):
        return subject_type
    return str(model._meta.verbose_name)
