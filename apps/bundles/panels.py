"""The bundle block on the office case screen (registered with apps.cases.hooks): where this
child case sits in its bundle's graph — which items it waits on, which wait on it, and each
one's state. Other case pages get nothing and pay no query (the applicant follows the bundle on
its own page, which links to each child case)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from apps.bundles import selectors


def bundle_case_panel(request: Any, case: Any) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "office-cases":
        return ""
    graph = selectors.bundle_graph_for_case(case.pk)
    if graph is None:
        return ""
    return render_to_string(
        "bundles/_office_case_panel.html", {"case": case, "graph": graph}, request=request
    )
