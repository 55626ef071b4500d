"""Benchmarks by name. Each is a callable returning a list of result dicts."""

from collections.abc import Callable

from bench import bench_catalog, bench_core, bench_sso

BENCHMARKS: dict[str, Callable[[], list[dict]]] = {
    "calendar": bench_core.calendar_arithmetic,
    "audit": bench_core.audit_append,
    "catalog_search": bench_catalog.search_latency,
    "sso": bench_sso.sso,
}
