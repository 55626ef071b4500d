"""Reads of the catalogue shared by pages, the API, other apps and tasks (STYLE.md C4)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from apps.catalog.constants import ItemStatus
from apps.catalog.models import HandlingVariant, ItemMaterial, ItemVersion, ServiceItem
from apps.catalog.permissions import managed_department_ids
from apps.core.exceptions import DomainError


def published_items() -> QuerySet[ServiceItem]:
    """Items a citizen can see and apply for: published, with their current version loaded."""
    return ServiceItem.objects.filter(
        status=ItemStatus.PUBLISHED, current_version__isnull=False
    ).select_related("current_version", "department", "department__region")


def visible_items() -> QuerySet[ServiceItem]:
    """Items with a public guide: published or suspended (the guide says it is suspended)."""
    return ServiceItem.objects.filter(
        status__in=[ItemStatus.PUBLISHED, ItemStatus.SUSPENDED], current_version__isnull=False
    ).select_related("current_version", "department", "department__region")


def get_item_for_apply(code: str) -> ItemVersion:
    """The current published version of the item with implementation code ``code``.

    Raises ``DomainError`` (code ``item_not_available``) when the item does not exist or is
    not open for applications (draft, suspended, retired). Cases store the returned version.
    """
    item = (
        ServiceItem.objects.filter(implementation_code=code)
        .select_related("current_version", "current_version__department")
        .first()
    )
    if item is None or not item.is_published:
        raise DomainError(_("该事项当前不可申请"), code="item_not_available")
    version = item.current_version
    assert version is not None
    return version


def version_with_children(version_id: int) -> ItemVersion:
    return (
        ItemVersion.objects.select_related("department", "item")
        .prefetch_related(
            Prefetch("materials", queryset=ItemMaterial.objects.order_by("order", "pk")),
            Prefetch("variants", queryset=HandlingVariant.objects.order_by("order", "pk")),
        )
        .get(pk=version_id)
    )


def get_public_item(code: str) -> ServiceItem:
    """A published or suspended item by implementation code, for its guide page; 404 otherwise."""
    item = (
        visible_items()
        .prefetch_related(
            Prefetch("current_version__materials", queryset=ItemMaterial.objects.order_by("order")),
            Prefetch(
                "current_version__variants", queryset=HandlingVariant.objects.order_by("order")
            ),
            "themes",
        )
        .filter(implementation_code=code)
        .first()
    )
    if item is None:
        raise Http404(_("事项不存在或未发布"))
    return item


def list_manageable_items(actor: Any) -> QuerySet[ServiceItem]:
    """Items ``actor`` (department admin, superuser or ApiClient) may edit."""
    allowed = managed_department_ids(actor)
    queryset = ServiceItem.objects.select_related("department", "current_version")
    if allowed is None:
        return queryset
    return queryset.filter(department_id__in=allowed)
