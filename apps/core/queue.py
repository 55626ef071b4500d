"""Enqueueing Celery tasks by their registered name.

Services never import task modules: a task module imports its service, and the service sends
the task by name, so there is no import cycle between the two. ``Signature.apply_async``
resolves the name through the app's task registry, so eager mode (the zero-setup demo and the
unit tests) still runs the task in-process.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from celery.result import AsyncResult


def enqueue(task_name: str, *args: Any, **options: Any) -> AsyncResult:
    """Send ``task_name`` with positional ``args``; ``options`` go to ``apply_async``
    (``countdown``, ``retry``, ``retry_policy``, ...).

    A web process has not necessarily imported the task modules; without the registered task
    the signature falls back to ``send_task``, which eager mode would not run, so the
    INSTALLED_APPS' task modules are loaded (once) when the name is not known yet.
    """
    app = current_app
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.signature(task_name, args=args).apply_async(**options)
