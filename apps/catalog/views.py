"""Citizen pages of the catalogue: browse, search and the printable guide (办事指南)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.catalog import selectors
from apps.catalog.constants import ItemType, ThemeAudience
from apps.catalog.forms import build_application_form, kinds_note
from apps.catalog.models import ItemMaterial, Theme
from apps.core.models import AdministrativeLevel, Department, Region, ServiceWindow

PAGE_SIZE = 20


def _filters(request: HttpRequest) -> dict[str, str]:
    params = request.GET
    return {
        "region_code": params.get("region", "")[:12],
        "audience": params.get("audience", "")[:16],
        "department": params.get("department", "")[:18],
        "item_type": params.get("type", "")[:2],
        "level": params.get("level", "")[:1],
        "theme": params.get("event", "")[:32],
    }


def _browse_context(request: HttpRequest) -> dict[str, object]:
    return {
        "themes": Theme.objects.all(),
        "departments": Department.objects.filter(is_active=True, items__isnull=False)
        .distinct()
        .select_related("region")
        .order_by("level", "region__code", "name"),
        # Where the citizen lives: items of that region and of the regions above it.
        "regions": Region.objects.filter(departments__items__isnull=False)
        .distinct()
        .order_by("code"),
        "levels": [
            (AdministrativeLevel.PROVINCE, AdministrativeLevel.PROVINCE.label),
            (AdministrativeLevel.CITY, AdministrativeLevel.CITY.label),
            (AdministrativeLevel.COUNTY, AdministrativeLevel.COUNTY.label),
        ],
        "audiences": ThemeAudience.choices,
        "item_types": ItemType.choices,
    }


def _base_query(request: HttpRequest) -> str:
    """The current query string without ``page``, ready for ``?{base}page=n`` links, so paging
    keeps the search text and every filter."""
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


def item_index(request: HttpRequest) -> HttpResponse:
    """Browse by life event / enterprise stage, department, region level, audience."""
    filters = _filters(request)
    items = selectors.filter_items(selectors.published_items(), **filters).order_by(
        "department__level", "current_version__name", "implementation_code"
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    theme = Theme.objects.filter(code=filters["theme"]).first() if filters["theme"] else None
    return render(
        request,
        "catalog/item_index.html",
        {
            "page": page,
            "filters": filters,
            "theme": theme,
            "base_query": _base_query(request),
            **_browse_context(request),
        },
    )


def item_search(request: HttpRequest) -> HttpResponse:
    """Search page; empty or nonsense queries get suggestions, never an error."""
    filters = _filters(request)
    text = request.GET.get("q", "")
    base = selectors.filter_items(selectors.published_items(), **filters)
    with selectors.search_transaction():  # every search statement through the GIN index
        result = selectors.search_items(text, base=base)
        page = Paginator(result.items, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    return render(
        request,
        "catalog/item_search.html",
        {
            "q": text,
            "query": result.query,
            "page": page,
            "filters": filters,
            "base_query": _base_query(request),
            **_browse_context(request),
        },
    )


def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The guide (办事指南) of the published version, printable, with where to go."""
    item = selectors.get_public_item(code)
    version = item.current_version
    windows = (
        ServiceWindow.objects.filter(departments=item.department_id, is_active=True)
        .select_related("hall")
        .order_by("hall__code", "number")
    )
    materials = version.materials.all() if version else ItemMaterial.objects.none()
    form_fields = [
        {
            "label": field.label,
            "required": field.field.required,
            "options": [str(name) for value, name in getattr(field.field, "choices", []) if value],
            "help": field.help_text,
            "who": kinds_note(version.form_schema["properties"][field.name]),
        }
        for field in (build_application_form(version) if version and version.form_schema else [])
    ]
    return render(
        request,
        "catalog/item_detail.html",
        {
            "item": item,
            "version": version,
            "materials": materials,
            "variants": version.variants.all() if version else [],
            "form_fields": form_fields,
            "windows": windows,
            "versions": item.versions.order_by("-version").only(
                "version", "published_at", "change_note", "item_id"
            ),
        },
    )
