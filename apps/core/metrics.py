"""Prometheus metrics for operations (issue 15 §6; docs/deploy.md "Alerts").

Two kinds of figure:

- **Per request**, recorded by ``RequestMetricsMiddleware``: latency and count by *route
  pattern* (``/api/v1/cases/<int:case_id>/``, never the raw path, so the number of series is
  bounded by the URL configuration) and method, and the count by status class.
- **Per scrape**, gathered when ``/metrics`` is read, each with a bounded, pinned number of
  queries: Celery queue depths (Redis list lengths, no database query), and what the apps
  register with ``register_metrics_provider`` in their ``AppConfig.ready()`` (handoffs by
  state and the oldest pending handoff: one query; cases past their SLA: one query).

With several server processes (gunicorn), set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory writable by every worker: the per-request figures are then summed across processes
(prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

NAMESPACE = "govportal"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"

# Per-process registry of the per-request metrics (exported directly without multiprocess
# mode; in multiprocess mode prometheus-client writes them to files and reads them back).
REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route pattern and method.",
    ["route", "method"],
    namespace=NAMESPACE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REQUEST_REGISTRY,
)
REQUESTS = Counter(
    "http_requests",
    "Requests answered, by route pattern, method and status class (2xx, 4xx, 5xx...).",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    registry=REQUEST_REGISTRY,
)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    return f"/{route}" if route is not None else UNMATCHED_ROUTE


class RequestMetricsMiddleware:
    """First in ``MIDDLEWARE``: times everything below it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        REQUEST_LATENCY.labels(route=route, method=method).observe(elapsed)
        REQUESTS.labels(route=route, method=method, status=f"{response.status_code // 100}xx").inc()
        return response


# --- per-scrape figures ------------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSample:
    name: str  # without the namespace
    documentation: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


_providers: dict[str, Callable[[], Iterable[GaugeSample]]] = {}


def register_metrics_provider(name: str, provider: Callable[[], Iterable[GaugeSample]]) -> None:
    """Apps add their figures here (STYLE.md L5) without importing prometheus-client. A
    provider runs on every scrape: keep it to one or two indexed queries."""
    _providers[name] = provider


def celery_queue_samples() -> list[GaugeSample]:
    """Length of each Celery queue's Redis list (messages waiting for a worker)."""
    broker_url = str(getattr(settings, "CELERY_BROKER_URL", ""))
    if not broker_url.startswith(("redis://", "rediss://", "unix://")):
        return []
    queues = list(settings.METRICS_CELERY_QUEUES)
    try:
        client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)
        pipeline = client.pipeline(transaction=False)
        for queue in queues:
            pipeline.llen(queue)
        lengths = pipeline.execute()
    except redis.RedisError:
        logger.warning("metrics.broker_unreachable")
        return [GaugeSample("celery_broker_up", "1 when the broker answered the scrape.", 0)]
    return [
        GaugeSample("celery_broker_up", "1 when the broker answered the scrape.", 1),
        *(
            GaugeSample(
                "celery_queue_length",
                "Messages waiting in a Celery queue (Redis list length).",
                float(length),
                {"queue": queue},
            )
            for queue, length in zip(queues, lengths, strict=True)
        ),
    ]


class ScrapeCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        samples: list[GaugeSample] = list(celery_queue_samples())
        for name, provider in _providers.items():
            try:
                samples += list(provider())
            except Exception:  # one broken provider must not hide every other figure
                logger.exception("metrics.provider_failed", extra={"provider": name})
        families: dict[str, GaugeMetricFamily] = {}
        for sample in samples:
            family = families.get(sample.name)
            if family is None:
                family = GaugeMetricFamily(
                    f"{NAMESPACE}_{sample.name}",
                    sample.documentation,
                    labels=sorted(sample.labels),
                )
                families[sample.name] = family
            family.add_metric([sample.labels[key] for key in sorted(sample.labels)], sample.value)
        yield from families.values()


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_RequestMetrics())
    registry.register(ScrapeCollector())
    return generate_latest(registry)


class _RequestMetrics(Collector):
    def collect(self) -> Iterator[Any]:
        yield from REQUEST_REGISTRY.collect()


# --- who may read /metrics ---------------------------------------------------------------


def metrics_access(request: HttpRequest) -> int:
    """200 for a configured address or the right bearer token; 403 for a wrong token; 404
    otherwise, so the endpoint's existence is not advertised."""
    token = str(settings.METRICS_TOKEN)
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        presented = header.removeprefix("Bearer ").strip()
        if token and hmac.compare_digest(presented.encode(), token.encode()):
            return 200
        return 403
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return 404
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS]
    return 200 if any(address in network for network in networks) else 404
