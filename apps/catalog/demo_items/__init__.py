"""The demo catalogue: real names of common items, implemented by the demo departments.

Each ``T(...)`` is one item as the basic catalogue knows it, with the kind of department that
implements it and at which levels; ``load_catalog_demo`` instantiates it once per matching
department of ``apps/core/data/demo_org.json``. Basic codes here are **demo codes** in the
12-character layout seen in production data (type code + 5-digit item + 3-digit sub-item +
``00``); they are not the national codes of these items.
"""

from __future__ import annotations

from apps.catalog.demo_items.base import DEPARTMENTS, LEGAL_BASES, M, T
from apps.catalog.demo_items.business import BUSINESS
from apps.catalog.demo_items.english import ENGLISH_NAMES
from apps.catalog.demo_items.housing import HOUSING
from apps.catalog.demo_items.lifeevents import LIFE_EVENTS
from apps.catalog.demo_items.moving import MOVING
from apps.catalog.demo_items.other import OTHER
from apps.catalog.demo_items.personal import PERSONAL
from apps.catalog.demo_items.social import SOCIAL

# The position in this list is the item's demo basic code (apps/catalog/demo.py): new items go
# at the end, so that reloading the demo never renumbers an item that exists.
ITEMS: list[T] = [*PERSONAL, *BUSINESS, *SOCIAL, *HOUSING, *OTHER, *MOVING, *LIFE_EVENTS]

for _template in ITEMS:  # every demo item has an English name (the English interface)
    _template.name_en = _template.name_en or ENGLISH_NAMES[_template.name]

__all__ = ["DEPARTMENTS", "ITEMS", "LEGAL_BASES", "M", "T"]
