"""GET /healthz: database and broker status, 503 when either is down."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_ok_with_real_postgres_and_redis(client, django_assert_max_num_queries) -> None:
    # given PostgreSQL and Redis up (make test starts them)
    # when /healthz is requested
    # queries: SELECT 1; calendar years; calendar days (loaded once per process); one aggregate
    # per app health detail (handoffs)
    with django_assert_max_num_queries(4):
        response = client.get("/healthz")
    # then both report ok over real connections
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["database"] == {
        "ok": True,
        "vendor": "postgresql",
        "latency_ms": body["database"]["latency_ms"],
    }
    assert body["broker"]["ok"] is True
    assert body["broker"]["mode"] == "redis"
    assert "calendar" in body["details"]


def test_healthz_reports_broker_down(client, settings) -> None:
    # given the broker URL points at a port where no Redis listens
    settings.REDIS_URL = "redis://127.0.0.1:6399/0"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6399/0"
    # when /healthz is requested
    response = client.get("/healthz")
    # then it answers 503 naming the broker, while the database is fine
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"] == "ConnectionError"
    assert body["database"]["ok"] is True


def test_healthz_without_redis_is_eager_demo_mode(client, settings) -> None:
    # given the zero-setup demo configuration (no REDIS_URL)
    settings.REDIS_URL = ""
    # then the broker is reported as eager, not down
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "mode": "eager"}
