"""A web worker's start-up work (govportal.warmup): the search tokenizer is loaded and the
main templates compiled before the first request, without touching the database."""

import pytest

from apps.catalog import search
from govportal.warmup import TEMPLATES, warm


def test_warm_up_loads_the_tokenizer_and_templates_without_queries(
    django_assert_max_num_queries,
) -> None:
    # when
    with django_assert_max_num_queries(0):
        elapsed = warm()
    # then: the tokenizer is ready (cached) and every listed template exists
    assert elapsed >= 0
    assert search._tokenizer.cache_info().currsize == 1
    assert search.parse_query.cache_info().currsize >= 1


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_warmed_template_exists(name) -> None:
    from django.template.loader import get_template

    assert get_template(name) is not None
