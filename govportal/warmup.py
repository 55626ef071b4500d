"""Work a server process does once, before it answers its first request.

A web worker's first catalogue search used to load jieba's dictionary and the domain words
(1–3 s); the first render of each page compiled its templates; the first request resolved the
URL configuration. Done at start-up instead (``govportal.wsgi``), so no visitor waits for them
and every worker of a freshly started or reloaded server answers at full speed. With
``gunicorn --preload`` it runs once in the master and the forked workers share the result.

Touches neither the database nor the cache: a worker must start even when they are down.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

# The templates of the pages read most (anonymous catalogue pages, the citizen's and the
# clerk's lists): compiled once by the cached loader.
TEMPLATES = (
    "core/home.html",
    "catalog/item_index.html",
    "catalog/item_search.html",
    "catalog/item_detail.html",
    "cases/my_cases.html",
    "cases/office/queue.html",
)


def warm() -> float:
    """Load the search tokenizer, pinyin tables, URL resolver and templates; the seconds taken."""
    started = time.monotonic()
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import get_resolver

    from apps.catalog import search

    search.parse_query("身份证 营业执照")  # jieba + the domain dictionary + pypinyin
    search.tokens("办理营业执照")
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    for name in TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:  # a renamed template must not stop a server from starting
            logger.warning("warm-up: no template %s", name)
    elapsed = time.monotonic() - started
    logger.info("warm-up done in %.2f s", elapsed)
    return elapsed
