"""Citizen pages of the catalogue: browse, search and the printable guide (办事指南)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_POST

from apps.catalog import cache as catalog_cache
from apps.catalog import places, search, selectors
from apps.catalog.constants import ItemType, ThemeAudience
from apps.catalog.forms import build_application_form, kinds_note
from apps.catalog.models import ItemMaterial, ServiceItem, Theme
from apps.core.context_processors import ELDER_COOKIE
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


def _browse_choices() -> dict[str, list[Any]]:
    """Themes, and the departments and regions that have items: three aggregating queries over
    the whole catalogue, cached under the catalogue generation (issue 15 §1)."""

    def load() -> dict[str, list[Any]]:
        return {
            "themes": list(Theme.objects.all()),
            "departments": list(
                Department.objects.filter(is_active=True, items__isnull=False)
                .distinct()
                .select_related("region")
                .order_by("level", "region__code", "name")
            ),
            # Where the citizen lives: items of that region and of the regions above it.
            "regions": list(
                Region.objects.filter(departments__items__isnull=False).distinct().order_by("code")
            ),
        }

    return catalog_cache.cached_result(catalog_cache.result_key("browse-choices"), load)


def _browse_context(request: HttpRequest) -> dict[str, object]:
    return {
        **_browse_choices(),
        "levels": [
            (AdministrativeLevel.PROVINCE, AdministrativeLevel.PROVINCE.label),
            (AdministrativeLevel.CITY, AdministrativeLevel.CITY.label),
            (AdministrativeLevel.COUNTY, AdministrativeLevel.COUNTY.label),
        ],
        "audiences": ThemeAudience.choices,
        "item_types": ItemType.choices,
    }


# The query parameters the catalogue pages read, with the length each is cut to; links and
# cache keys carry these alone, so an invented parameter neither shows in a page nor makes a
# new cache entry.
_PARAMS = {
    "q": 100,
    "event": 32,
    "audience": 16,
    "region": 12,
    "level": 1,
    "department": 18,
    "type": 2,
}


def _base_query(request: HttpRequest) -> str:
    """The current query string without ``page``, ready for ``?{base}page=n`` links, so paging
    keeps the search text and every filter."""
    params = QueryDict(mutable=True)
    for name in request.GET:
        if name in _PARAMS and request.GET.get(name):
            params[name] = request.GET[name][: _PARAMS[name]]
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


def _page_param(request: HttpRequest) -> str:
    """The page asked for, as ``Paginator.get_page`` reads it (anything else is page 1)."""
    page = request.GET.get("page", "")[:6]
    return page if page.isdigit() or page == "last" else ""


def _version_ids(queryset: QuerySet[ServiceItem], start: int, stop: int | None) -> list[int]:
    return list(queryset.values_list("current_version_id", flat=True)[start:stop])


def _browse_counts() -> selectors.BrowseCounts:
    """The published catalogue counted by every browse choice, once per catalogue generation
    (a publish, suspension, resumption or retirement bumps it)."""
    return catalog_cache.cached_result(
        catalog_cache.result_key("browse-counts"), selectors.browse_counts
    )


def _cached_body(kind: str, parts: Any, render_body: Any) -> str:
    """The rendered content of a catalogue page, cached under the catalogue generation and
    the language: what every visitor sees of the same query (nothing in it depends on who is
    signed in), so a repeated page costs two cache reads and the layout's render."""
    key = catalog_cache.result_key(f"body-{kind}", get_language(), parts)
    return catalog_cache.cached_result(key, render_body)


def _page(request: HttpRequest, template: str, body: str) -> HttpResponse:
    return render(request, template, {"body": mark_safe(body)})  # noqa: S308 - our own render


def item_index(request: HttpRequest) -> HttpResponse:
    """Browse by life event / enterprise stage, department, region level, audience."""
    filters = _filters(request)
    base_query = _base_query(request)
    page_param = _page_param(request)

    def render_body() -> str:
        def items() -> QuerySet[ServiceItem]:
            return selectors.filter_items(selectors.published_items(), **filters).order_by(
                "department__level", "current_version__name", "implementation_code"
            )

        def count() -> int:
            counted = _browse_counts().count(**filters)
            return items().count() if counted is None else counted

        results = catalog_cache.CachedResults(
            kind="index",
            params=sorted(filters.items()),
            compute_ids=lambda start, stop: _version_ids(items(), start, stop),
            compute_count=count,
            rows=catalog_cache.item_rows,
        )
        page = Paginator(results, PAGE_SIZE).get_page(page_param)
        context = _browse_context(request)
        themes: list[Theme] = context["themes"]  # type: ignore[assignment]
        theme = next((t for t in themes if t.code == filters["theme"]), None)
        return render_to_string(
            "catalog/_index_body.html",
            {
                "page": page,
                "filters": filters,
                "theme": theme,
                "base_query": base_query,
                **context,
            },
        )

    body = _cached_body("index", (sorted(filters.items()), page_param, base_query), render_body)
    return _page(request, "catalog/item_index.html", body)


def item_search(request: HttpRequest) -> HttpResponse:
    """Search page; empty or nonsense queries get suggestions, never an error."""
    filters = _filters(request)
    text = request.GET.get("q", "")[: _PARAMS["q"]]
    base_query = _base_query(request)
    page_param = _page_param(request)
    # One result per item; the implementation of the citizen's region first.
    region = places.valid_region_code(filters["region_code"]) or places.chosen_region(request)

    def render_body() -> str:
        parsed = search.parse_query(text)

        def ranked() -> QuerySet[ServiceItem]:
            base = selectors.filter_items(selectors.published_items(), **filters)
            return selectors.search_items(text, base=base).items

        def ids(start: int, stop: int | None) -> list[list[int]]:
            with selectors.search_transaction():  # every search statement through the GIN index
                return [row["version_ids"] for row in selectors.group_by_item(ranked())[start:stop]]

        def count() -> int:
            with selectors.search_transaction():
                groups = selectors.group_by_item(ranked())
                return len(groups) if isinstance(groups, list) else groups.count()

        results = catalog_cache.CachedResults(
            kind="search-groups",
            params=(parsed.text, sorted(filters.items())),
            compute_ids=ids,
            compute_count=count,
            rows=lambda groups: places.item_groups(groups, region),
        )
        page = Paginator(results, PAGE_SIZE).get_page(page_param)
        context = _browse_context(request)
        regions: list[Region] = context["regions"]  # type: ignore[assignment]
        return render_to_string(
            "catalog/_search_body.html",
            {
                "q": text,
                "query": parsed,
                "page": page,
                "filters": filters,
                "base_query": base_query,
                "next_path": f"{request.path}?{base_query}".rstrip("?&"),
                "place": next((r for r in regions if r.code == region), None),
                "place_code": region,
                **context,
            },
        )

    body = _cached_body(
        "search", (text, sorted(filters.items()), region, page_param, base_query), render_body
    )
    return _page(request, "catalog/item_search.html", body)


@csrf_exempt  # a display preference of the visitor's own, like the language (core.views)
@require_POST
def choose_region(request: HttpRequest) -> HttpResponse:
    """Remember where the citizen is (a cookie for a year); an empty choice forgets it."""
    target = request.POST.get("next") or "/catalog/search/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/catalog/search/"
    response = HttpResponseRedirect(target)
    code = places.valid_region_code(request.POST.get("region", ""))
    if code and Region.objects.filter(code=code).exists():
        response.set_cookie(
            places.REGION_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    else:
        response.delete_cookie(places.REGION_COOKIE, samesite="Lax")
    return response


def _guide_state(code: str) -> tuple[int, str] | None:
    """(current version id, status) of the item whose guide is public, cached under the
    catalogue generation (a publish, suspension or retirement bumps it)."""
    state = catalog_cache.cached_result(
        catalog_cache.result_key("guide-state", code),
        lambda: selectors.public_item_state(code) or (),
    )
    return tuple(state) if state else None  # type: ignore[return-value]


def _is_shared_view(request: HttpRequest) -> bool:
    """Whether every visitor sees the same page: no session (so nobody signed in, and no
    messages kept in one) and no flash messages in a cookie. Such a page can be cached whole
    and answered with 304 (issue 15 §1)."""
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _guide_variant(request: HttpRequest, code: str) -> str | None:
    """What a shared guide page depends on: the version shown, the item's status, the
    catalogue generation (windows, department), the language and the elder-friendly mode."""
    if not _is_shared_view(request):
        return None
    state = _guide_state(code)
    if state is None:
        return None
    elder = request.COOKIES.get(ELDER_COOKIE) == "1"
    generation = catalog_cache.catalog_generation()
    return f"{code}:{state[0]}:{state[1]}:{generation}:{get_language()}:{elder:d}"


def _guide_etag(request: HttpRequest, code: str) -> str | None:
    variant = _guide_variant(request, code)
    if variant is None:
        return None
    return hashlib.sha1(variant.encode(), usedforsecurity=False).hexdigest()


@condition(etag_func=_guide_etag)
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The guide (办事指南) of the published version, printable, with where to go.

    A shared view (nobody signed in, no flash message) is rendered once per version, status,
    language and display mode and served from the cache; ``ETag`` answers repeat visits with
    304 Not Modified."""
    if _guide_state(code) is None:
        raise Http404(_("事项不存在或未发布"))
    variant = _guide_variant(request, code)
    html_key = f"catalog:guide-html:{variant}" if variant else ""
    if html_key:
        html = cache.get(html_key)
        if html is not None:
            return HttpResponse(html)
    response = _render_guide(request, code)
    if html_key:
        cache.set(html_key, response.content, catalog_cache.RESULT_TIMEOUT)
    return response


def _render_guide(request: HttpRequest, code: str) -> HttpResponse:
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
