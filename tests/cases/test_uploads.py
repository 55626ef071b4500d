"""Upload checks: sniffed content type, size bounds, private storage outside the web root."""

import io
from pathlib import Path

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core import uploads
from apps.core.exceptions import DomainError

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\x00" * 16
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.mark.parametrize(
    ("_case", "content", "name", "mime", "ext"),
    [
        ("pdf", PDF, "营业执照.pdf", "application/pdf", "pdf"),
        ("png_named_pdf", PNG, "scan.pdf", "image/png", "png"),
        ("jpeg_without_extension", JPEG, "photo", "image/jpeg", "jpg"),
    ],
)
def test_type_comes_from_content(_case: str, content: bytes, name: str, mime: str, ext: str):
    checked = uploads.check_upload(SimpleUploadedFile(name, content, content_type="text/plain"))
    assert (checked.content_type, checked.extension, checked.size) == (mime, ext, len(content))
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("_case", "content", "name", "code"),
    [
        ("executable_named_pdf", EXE, "licence.pdf", "upload_type"),
        ("html_named_png", b"<html><script>alert(1)</script></html>", "a.png", "upload_type"),
        ("empty", b"", "a.pdf", "upload_empty"),
    ],
)
def test_refused_uploads(_case: str, content: bytes, name: str, code: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        uploads.check_upload(SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert excinfo.value.code == code


def test_size_limit(settings) -> None:
    settings.CASES_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000)
    with pytest.raises(DomainError) as excinfo:
        uploads.check_upload(big)
    assert excinfo.value.code == "upload_too_large"
    assert "MB" in excinfo.value.message


def test_plain_file_objects_are_checked_too() -> None:
    checked = uploads.check_upload(io.BytesIO(PNG))
    assert checked.content_type == "image/png"


def test_storage_has_no_public_url_and_random_names(settings, tmp_path: Path) -> None:
    settings.CASES_UPLOAD_ROOT = tmp_path / "private"
    storage = uploads.case_file_storage()
    checked = uploads.check_upload(SimpleUploadedFile("x.pdf", PDF))
    name = storage.save(uploads.stored_name(checked), io.BytesIO(PDF))
    assert name.endswith(".pdf")
    assert "x.pdf" not in name
    assert (tmp_path / "private" / name).read_bytes() == PDF
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storage.url(name)


def test_system_check_refuses_upload_root_inside_static(settings, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    settings.CASES_UPLOAD_ROOT = tmp_path / "static" / "uploads"
    errors = uploads.check_upload_root_outside_web_root()
    assert [e.id for e in errors] == ["core.E001"]


def test_default_upload_root_passes_the_system_check() -> None:
    assert uploads.check_upload_root_outside_web_root() == []
