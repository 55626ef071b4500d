"""The list pages' rows built in Python: escaped, labelled and badged like the templates were."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django.utils import timezone

from apps.cases import list_rows, selectors


def _case(**extra):
    fields = {
        "pk": 7,
        "number": "",
        "status": "draft",
        "channel": "online",
        "applicant_name": "<script>x</script>",
        "created_at": timezone.now(),
        "received_at": None,
        "accepted_at": None,
        "promised_days": None,
        "extension_days": 0,
        "paused_days": 0,
        "paused_since": None,
        "deadline": None,
        "decided_at": None,
        "closed_at": None,
        "item_name": "<b>事项</b>",
        "department_name": "部门",
    }
    fields.update(extra)
    return selectors.CaseRow(**fields)


def test_my_case_row_escapes_names_and_labels_a_draft(monkeypatch):
    monkeypatch.setattr(selectors, "sla_figures", lambda case: None)
    html = list_rows.my_case_rows([_case()], list_rows.my_case_labels())
    assert "&lt;b&gt;事项&lt;/b&gt;" in html
    assert 'href="/cases/7/"' in html
    assert ">草稿</a>" in html
    assert '<td data-label="承诺办结日期">—</td>' in html


def test_queue_row_escapes_the_applicant_and_badges_an_overdue_case(monkeypatch):
    sla = SimpleNamespace(running=True, paused=False, level="red", days_overdue=3, days_left=0)
    monkeypatch.setattr(selectors, "sla_figures", lambda case: sla)
    html = list_rows.queue_rows([_case(number="N-1")], list_rows.queue_labels())
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert 'class="queue-row queue-row--red"' in html
    assert '<span class="sla sla--red">已超期 3 个工作日</span>' in html
    assert 'href="/office/cases/7/"' in html


@pytest.mark.django_db
def test_case_rows_carry_the_listed_columns_and_give_the_same_sla_as_the_case(department):
    """The rows are read as tuples; each is what the page showed from the model instance."""
    from apps.cases.models import Case
    from tests.cases import factories

    version = factories.item_version(department)
    people = {
        "applicant": factories.citizen(),
        "clerk": factories.clerk_of(department),
        "reviewer": factories.reviewer_of(department),
    }
    accepted = factories.case_in("accepted", version=version, **people)
    factories.case_in("draft", version=version, **people)
    rows = {row.pk: row for row in selectors.case_rows(Case.objects.order_by("pk"))}
    assert len(rows) == 2
    for case in Case.objects.select_related("item_version", "department"):
        row = rows[case.pk]
        assert row.item_name == case.item_version.name
        assert row.department_name == case.department.name
        assert (row.number, row.status, row.channel, row.applicant_name, row.deadline) == (
            case.number,
            case.status,
            case.channel,
            case.applicant_name,
            case.deadline,
        )
        assert selectors.sla_figures(row) == selectors.sla_figures(case)
    assert selectors.sla_figures(rows[accepted.pk]) is not None
