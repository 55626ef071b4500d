"""The list pages' rows built in Python: escaped, labelled and badged like the templates were."""

from __future__ import annotations

from types import SimpleNamespace

from apps.cases import list_rows, selectors


def _case(**extra):
    fields = {
        "pk": 7,
        "number": "",
        "status": "draft",
        "channel": "online",
        "item_version": SimpleNamespace(name="<b>事项</b>"),
        "department": SimpleNamespace(name="部门"),
        "applicant_name": "<script>x</script>",
        "received_at": None,
        "deadline": None,
    }
    fields.update(extra)
    return SimpleNamespace(**fields)


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
