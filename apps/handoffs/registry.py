"""Answer handlers per subject type (STYLE.md L3, L5).

The app that owns a subject (``cases`` for ``cases.case``) registers, in its
``AppConfig.ready()``, the function that applies a department's answer to it::

    register_answer_handler("cases.case", apply_department_answer)

The handler is called as ``fn(handoff=..., answer=...)`` inside the transaction that records
the answer, once per answer idempotency key; it may raise ``DomainError`` to refuse the answer
(nothing is then recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AnswerHandler = Callable[..., Any]

_handlers: dict[str, AnswerHandler] = {}


def register_answer_handler(subject_type: str, fn: AnswerHandler) -> None:
    """Register ``fn`` for ``subject_type`` (a model label such as ``cases.case``).

    Registering the same function again is a no-op; a different one replaces it (tests).
    """
    _handlers[subject_type.lower()] = fn


def unregister_answer_handler(subject_type: str) -> None:
    _handlers.pop(subject_type.lower(), None)


def get_answer_handler(subject_type: str) -> AnswerHandler | None:
    return _handlers.get(subject_type.lower())
