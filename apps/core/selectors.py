"""Reads shared by views, the API and /healthz."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from apps.core.calendar import calendar_health
from apps.core.models import Department, Region


def database_status() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def broker_status() -> dict[str, Any]:
    if not settings.REDIS_URL:
        # Zero-setup demo: tasks run in-process, there is no broker to be down.
        return {"ok": True, "mode": "eager"}
    started = time.perf_counter()
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "mode": "redis", "error": exc.__class__.__name__}
    finally:
        client.close()
    return {
        "ok": True,
        "mode": "redis",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


# Apps add their own /healthz details (e.g. handoffs: age of the oldest pending handoff) from
# ``AppConfig.ready()``, so core never imports them (dependencies point one way).
_health_details: dict[str, Callable[[], Any]] = {}


def register_health_detail(name: str, provider: Callable[[], Any]) -> None:
    _health_details[name] = provider


def health_report() -> dict[str, Any]:
    database = database_status()
    broker = broker_status()
    details: dict[str, Any] = {}
    if database["ok"]:
        details["calendar"] = calendar_health()
        for name, provider in _health_details.items():
            details[name] = provider()
    return {
        "status": "ok" if database["ok"] and broker["ok"] else "down",
        "database": database,
        "broker": broker,
        "details": details,
    }


def list_regions(*, level: int | None = None, parent_code: str | None = None) -> QuerySet[Region]:
    regions = Region.objects.select_related("parent")
    if level is not None:
        regions = regions.filter(level=level)
    if parent_code:
        regions = regions.filter(parent__code=parent_code)
    return regions.order_by("code")


def list_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).select_related("region")
