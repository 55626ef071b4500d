"""Where the upload helpers lived before they moved to ``apps.core.uploads``: the migrations of
cases, reviews and bundles name ``apps.cases.uploads.case_file_storage`` as their storage."""

from apps.core.uploads import case_file_storage

__all__ = ["case_file_storage"]
