"""The office screens in the English interface: plurals, list separators and human labels
instead of raw event names and MIME types."""

import subprocess
from pathlib import Path

import pytest

from django.conf import settings as django_settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from apps.cases.constants import CaseStatus
from apps.cases.selectors import SlaFigures
from apps.core import uploads
from apps.core.i18n import join_list
from apps.handoffs.models import Handoff
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

pytestmark = pytest.mark.django_db

PO = Path(django_settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def english(settings, tmp_path):
    """The English catalogue compiled from the .po in the tree (the .mo is not committed)."""
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(target / "django.mo"), str(PO)],
        check=True,
    )
    settings.LOCALE_PATHS = [str(tmp_path)]  # resets Django's translation caches
    with translation.override("en"):
        yield


def sla_badge(**figures) -> str:
    defaults = {"deadline": None, "days_used": 0, "days_left": 0, "level": None, "paused": False}
    badge = Template("{% load case_panels %}{% sla_badge sla %}")
    return badge.render(Context({"sla": SlaFigures(**{**defaults, **figures})}))


@pytest.mark.parametrize(
    ("_case", "figures", "text"),
    [
        ("one left", {"days_left": 1}, "1 working day left"),
        ("five left", {"days_left": 5}, "5 working days left"),
        ("due soon", {"days_left": 1, "level": "yellow"}, "Due soon: 1 working day left"),
        ("overdue one", {"days_left": -1, "level": "red"}, "Overdue by 1 working day"),
        ("overdue two", {"days_left": -2, "level": "red"}, "Overdue by 2 working days"),
    ],
)
def test_working_days_agree_with_their_number(english, _case, figures, text) -> None:
    # when
    html = sla_badge(**figures)

    # then
    assert f">{text}<" in html


def test_chinese_badges_are_unchanged() -> None:
    # when
    html = sla_badge(days_left=1)

    # then
    assert ">剩余 1 个工作日<" in html


def test_lists_join_with_the_languages_separator(english) -> None:
    # then
    assert join_list(["PDF", "JPG", "PNG"]) == "PDF, JPG, PNG"
    with translation.override("zh-hans"):
        assert join_list(["PDF", "JPG", "PNG"]) == "PDF、JPG、PNG"


def test_file_types_and_handoff_events_have_human_labels(english) -> None:
    # given
    handoff = Handoff(event="case.accepted", subject_type="cases.case")
    unknown = Handoff(event="demo.other", subject_type="demo.notice")

    # then
    assert uploads.type_label("application/pdf") == "PDF document"
    assert uploads.type_label("image/jpeg") == "JPG image"
    assert uploads.type_label("application/x-unknown") == "File"
    assert handoff.event_label == "Case accepted, sent to the deciding department"
    assert handoff.subject_type_label == "Case"
    assert (unknown.event_label, unknown.subject_type_label) == ("demo.other", "demo.notice")


def test_office_case_screen_in_english_shows_no_raw_mime_type(
    english, department, django_assert_max_num_queries
) -> None:
    # given: an accepted case with uploaded PDF materials
    clerk = clerk_of(department)
    case = case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk,
        reviewer=reviewer_of(department),
    )
    client = Client()
    client.force_login(clerk)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    # when
    # Queries: as the office case screen in Chinese (test_views): 14 at most.
    with django_assert_max_num_queries(14):
        html = client.get(reverse("office-cases:case", args=[case.pk])).content.decode()

    # then
    assert "application/pdf" not in html
    assert "PDF document" in html
    assert "working days left" in html or "working day left" in html
