"""Appeal evidence files: checked like case materials (type sniffed, size bounded, a limited
number), stored privately, downloadable only by the department and the 政务服务管理机构."""

from __future__ import annotations

from pathlib import Path

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.constants import AppealGround, Grade, TicketStatus
from apps.reviews.models import Appeal, AppealEvidence
from tests.identity.factories import StaffMembershipFactory, verified_user
from tests.reviews.factories import BAD_REASON, authority, window_service

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path: Path) -> Path:
    settings.CASES_UPLOAD_ROOT = tmp_path / "private"
    return tmp_path / "private"


@pytest.fixture
def rater():
    return verified_user("孙丽")


@pytest.fixture
def ticket(department, rater):
    service = window_service(department, served_user=rater)
    return services.rate_by_token(
        token=services.pad_token(service), grade=Grade.VERY_DISSATISFIED, options=[BAD_REASON]
    ).ticket


@pytest.fixture
def head(department):
    return StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user


def _pdf(name: str = "叫号记录.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_department_appeals_with_evidence_files_only(ticket, head, private_root) -> None:
    # when the department head appeals with two files and no description
    appeal = services.file_appeal(
        ticket_id=ticket.pk,
        user=head,
        ground=AppealGround.MISTAKEN,
        statement="非本窗口办理",
        files=[_pdf(), SimpleUploadedFile("监控截图.png", PNG, content_type="image/png")],
    )
    # then both are stored privately under random names, typed by content, and audited
    files = list(AppealEvidence.objects.order_by("pk"))
    assert [(f.original_name, f.content_type, f.uploaded_by) for f in files] == [
        ("叫号记录.pdf", "application/pdf", head),
        ("监控截图.png", "image/png", head),
    ]
    assert all(f.file.name.startswith("reviews/") for f in files)
    assert "叫号记录" not in files[0].file.name
    assert (private_root / files[0].file.name).read_bytes() == PDF
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.APPEALED
    event = AuditEvent.objects.get(action="reviews.appeal")
    assert event.data["files"] == [f.sha256 for f in files]
    assert appeal.evidence == ""


@pytest.mark.parametrize(
    ("_case", "files", "code"),
    [
        ("not_a_pdf_or_image", [SimpleUploadedFile("a.pdf", b"MZ\x90\x00" * 40)], "upload_type"),
        ("empty", [SimpleUploadedFile("a.pdf", b"")], "upload_empty"),
        ("too_many", [_pdf() for _ in range(3)], "too_many_files"),
        ("no_evidence_at_all", [], "evidence_required"),
    ],
)
def test_bad_evidence_changes_nothing(
    ticket, head, private_root, settings, _case, files, code
) -> None:
    settings.REVIEWS_APPEAL_MAX_FILES = 2
    with pytest.raises(DomainError) as error:
        services.file_appeal(
            ticket_id=ticket.pk,
            user=head,
            ground=AppealGround.MISTAKEN,
            statement="非本窗口办理",
            files=files,
        )
    assert error.value.code == code
    assert not Appeal.objects.exists()
    assert not AppealEvidence.objects.exists()
    assert not any(private_root.rglob("*.*"))


def test_a_too_large_file_is_refused(ticket, head, settings) -> None:
    settings.CASES_UPLOAD_MAX_BYTES = 16
    with pytest.raises(DomainError) as error:
        services.file_appeal(
            ticket_id=ticket.pk,
            user=head,
            ground=AppealGround.MISTAKEN,
            statement="非本窗口办理",
            files=[_pdf()],
        )
    assert error.value.code == "upload_too_large"
    assert not Appeal.objects.exists()


def test_a_refused_appeal_leaves_no_file_behind(ticket, department, private_root) -> None:
    # given a clerk (not allowed to appeal) with a valid file
    clerk = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    with pytest.raises(DomainError) as error:
        services.file_appeal(
            ticket_id=ticket.pk,
            user=clerk,
            ground=AppealGround.MISTAKEN,
            statement="非本窗口办理",
            files=[_pdf()],
        )
    assert error.value.code == "forbidden"
    assert not any(private_root.rglob("*.*"))


def test_appeal_form_uploads_files_and_the_authority_downloads_them(
    client, ticket, head, django_assert_max_num_queries
) -> None:
    # given the department head on the ticket page
    client.force_login(head)
    response = client.post(
        reverse("reviews_office:ticket_action", args=[ticket.pk, "appeal"]),
        {
            "ground": AppealGround.MISTAKEN,
            "statement": "非本窗口办理",
            "evidence": "",
            "evidence_files": [_pdf()],
        },
    )
    assert response.status_code == 302
    evidence = AppealEvidence.objects.get()
    url = reverse("reviews_office:appeal_evidence", args=[evidence.pk])
    # when the supervising 管理机构 opens the appeal and downloads the file
    client.force_login(authority("360000"))
    page = client.get(reverse("reviews_office:appeal", args=[evidence.appeal_id]))
    # Queries: session, user, memberships and 管理机构 scope (staff check), the file with its
    # appeal's department scope.
    with django_assert_max_num_queries(10):
        download = client.get(url)
    # then
    assert url in page.content.decode()
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]


def test_evidence_is_not_downloadable_by_the_rater_or_other_departments(
    client, ticket, head, rater, other_department
) -> None:
    appeal = services.file_appeal(
        ticket_id=ticket.pk,
        user=head,
        ground=AppealGround.MISTAKEN,
        statement="非本窗口办理",
        files=[_pdf()],
    )
    url = reverse("reviews_office:appeal_evidence", args=[appeal.evidence_files.get().pk])
    for user in (
        rater,
        StaffMembershipFactory(department=other_department, role=StaffRole.DEPT_ADMIN).user,
        authority("440000"),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
