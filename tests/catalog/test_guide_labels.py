"""The guide's code-list labels are joined the way the interface language lists things."""

from django.utils import translation

from apps.catalog.templatetags.catalog_guide import handling_form_labels


def test_handling_forms_are_listed_with_the_language_separator() -> None:
    assert handling_form_labels(["1", "4"]) == "窗口办理、快递申请"
    with translation.override("en"):
        labels = handling_form_labels(["1", "4"])
    assert labels.startswith("At a window, ")
    assert "、" not in labels
