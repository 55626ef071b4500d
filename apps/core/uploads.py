"""Checks and private storage for every uploaded file: case materials, bundle materials, appeal
evidence, qualification certificates.

- The type is sniffed from the file's first bytes (``filetype``), never taken from the file name
  or the browser's Content-Type; only the types in ``CASES_UPLOAD_TYPES`` pass.
- The size is bounded (``CASES_UPLOAD_MAX_BYTES``); empty files are refused.
- Files are stored under ``CASES_UPLOAD_ROOT`` (outside the web root; there is no URL route to
  it) with a random name; the original name is kept only as metadata. They are served by views
  that check access first (each app's download view, signed API links).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype

from django.conf import settings
from django.core.checks import Error, register
from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError

# What a sniff needs; filetype reads at most 8 KiB anyway.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str


def allowed_types() -> dict[str, str]:
    """Allowed MIME type -> stored extension."""
    return dict(settings.CASES_UPLOAD_TYPES)


def type_label(content_type: str) -> str:
    """What people are shown for a stored file's MIME type: "PDF 文档", "JPG 图片"; another
    configured type by its extension; never the raw MIME string."""
    labels = {
        "application/pdf": _("PDF 文档"),
        "image/jpeg": _("JPG 图片"),
        "image/png": _("PNG 图片"),
    }
    if content_type in labels:
        return labels[content_type]
    extension = allowed_types().get(content_type, "")
    if extension:
        return _("%(ext)s 文件") % {"ext": extension.upper()}
    return _("文件")


def check_upload(upload: Any) -> CheckedUpload:
    """Validate an ``UploadedFile`` (or a file object with ``name``); DomainError if bad."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    max_bytes = int(settings.CASES_UPLOAD_MAX_BYTES)
    if size == 0:
        raise DomainError(_("上传的文件为空"), code="upload_empty")
    if size > max_bytes:
        raise DomainError(
            _("文件过大：不得超过 %(mb)s MB") % {"mb": round(max_bytes / 1024 / 1024, 1)},
            code="upload_too_large",
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    kind = filetype.guess(head)
    types = allowed_types()
    if kind is None or kind.mime not in types:
        raise DomainError(
            _("不支持的文件类型：仅接受 PDF、JPG、PNG 文件（按文件内容识别）"),
            code="upload_type",
        )
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    name = Path(str(getattr(upload, "name", "") or "")).name[:200]
    return CheckedUpload(
        content_type=kind.mime,
        extension=types[kind.mime],
        size=int(size),
        sha256=digest.hexdigest(),
        original_name=name,
    )


class PrivateFileStorage(FileSystemStorage):
    """File-system storage without URLs: files leave only through access-checked views."""

    def url(self, name: str | None) -> str:
        raise ValueError("private files are not accessible via a URL; use an access-checked view")


def case_file_storage() -> PrivateFileStorage:
    return PrivateFileStorage(location=str(settings.CASES_UPLOAD_ROOT))


def stored_name(checked: CheckedUpload) -> str:
    """A random, non-guessable storage path; the original name never reaches the file system."""
    today = timezone.localdate()
    return f"{today:%Y/%m}/{uuid.uuid4().hex}.{checked.extension}"


def open_stored(name: str) -> IO[bytes]:
    return case_file_storage().open(name, "rb")


@register()
def check_upload_root_outside_web_root(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The upload root must not sit inside a directory served as static files."""
    root = Path(settings.CASES_UPLOAD_ROOT).resolve()
    served = [Path(p).resolve() for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        served.append(Path(settings.STATIC_ROOT).resolve())
    errors = []
    for directory in served:
        if root == directory or directory in root.parents:
            errors.append(
                Error(
                    "CASES_UPLOAD_ROOT is inside a served static directory",
                    hint=f"{root} is under {directory}; move uploads outside the web root",
                    id="core.E001",
                )
            )
    return errors
