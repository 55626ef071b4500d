"""Benchmarks by name. Each is a callable returning a list of result dicts."""

from collections.abc import Callable

from bench import (
    bench_bundles,
    bench_cases,
    bench_catalog,
    bench_core,
    bench_handoffs,
    bench_http,
    bench_identity,
    bench_licences,
    bench_licences_http,
    bench_marketplace,
    bench_reviews,
    bench_sso,
)

BENCHMARKS: dict[str, Callable[[], list[dict]]] = {
    "calendar": bench_core.calendar_arithmetic,
    "audit": bench_core.audit_append,
    "catalog_search": bench_catalog.search_latency,
    "sso": bench_sso.sso,
    "identity_pii": bench_identity.pii_and_lookup,
    "identity_service_code": bench_identity.service_code_round_trip,
    "cases": bench_cases.cases,
    "handoffs_push": bench_handoffs.handoffs_push,
    "handoffs_pull": bench_handoffs.handoffs_pull,
    "reviews": bench_reviews.reviews,
    "licences": bench_licences.licences,
    "licences_http": bench_licences_http.licences_http,
    "marketplace_bidding": bench_marketplace.concurrent_bidding,
    "marketplace_list": bench_marketplace.announcement_list,
    "bundles": bench_bundles.bundles,
    # Last: it leaves 100,000 generated items, which catalog_search cuts back to 10,000.
    "http": bench_http.http_ratios,
}
