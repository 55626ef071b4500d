"""The licence face as a PDF (fpdf2): title, face data, validity, issuer, the QR of a file token
and the issuer's seal picture. The CJK font (WenQuanYi Micro Hei, from the
``paperang-p2-fonts-cjk`` wheel; ``LICENCE_PDF_FONT`` points elsewhere) is parsed once per
process (``apps.licences.pdffont``) and embedded as a subset, so the file shows Chinese on any
reader. OFD is not written: no maintained Python library writes
a valid OFD (easyofd reads and renders only)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from django.conf import settings

from apps.licences.pdffont import add_cached_font, cacheable, prepare_output

FONT = "cjk"


def font_path() -> str:
    configured = getattr(settings, "LICENCE_PDF_FONT", "")
    if configured:
        return configured
    import paperang_p2_fonts_cjk

    return str(Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc")


def _seal(pdf: FPDF, *, x: float, y: float, r: float, name: str) -> None:
    """The seal picture: a red ring, a star and the department name around the top."""
    pdf.set_draw_color(200, 0, 0)
    pdf.set_text_color(200, 0, 0)
    pdf.set_line_width(0.8)
    pdf.circle(x=x, y=y, radius=r)
    pdf.set_fill_color(200, 0, 0)
    points = []
    for i in range(10):
        radius = r * (0.32 if i % 2 == 0 else 0.13)
        angle = math.pi / 2 + i * math.pi / 5
        points.append((x + radius * math.cos(angle), y - radius * math.sin(angle)))
    pdf.polygon(points, style="F")
    pdf.set_font(FONT, size=7)
    chars = list(name[:16])
    span = math.radians(220)
    for i, char in enumerate(chars):
        angle = math.pi / 2 + span / 2 - (span * i / max(len(chars) - 1, 1))
        cx, cy = x + r * 0.74 * math.cos(angle), y - r * 0.74 * math.sin(angle)
        with pdf.rotation(math.degrees(angle) - 90, x=cx, y=cy):
            pdf.text(cx - 1.2, cy + 1.2, char)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def render_pdf(
    *,
    title: str,
    rows: list[tuple[str, str]],
    identifier: str,
    issuer: str,
    issued_on: str,
    qr_url: str,
    footer: str = "",
    watermark: str = "",
) -> bytes:
    """One A5 landscape page; ``rows`` are (label, value) of the face data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pdf = FPDF(orientation="L", unit="mm", format="A5")
    pdf.set_auto_page_break(False)
    pdf.set_creator("govportal")
    pdf.set_title(title)
    path = font_path()
    font = add_cached_font(pdf, FONT, path) if cacheable(path) else None
    if font is None:
        pdf.add_font(FONT, fname=path, collection_font_number=0)
    pdf.add_page()
    width = pdf.w
    pdf.set_draw_color(160, 120, 40)
    pdf.set_line_width(1.2)
    pdf.rect(6, 6, width - 12, pdf.h - 12)
    pdf.set_font(FONT, size=20)
    pdf.set_xy(10, 12)
    pdf.cell(width - 20, 10, title, align="C")
    pdf.set_font(FONT, size=10)
    y = 28.0
    for label, value in rows:
        pdf.set_xy(14, y)
        pdf.cell(36, 7, label)
        pdf.set_xy(50, y)
        pdf.multi_cell(width - 50 - 52, 7, value or "—")
        y = max(y + 7, pdf.get_y())
        if y > pdf.h - 30:
            break
    qr = segno.make(qr_url, error="m")
    size = 34.0
    modules = qr.symbol_size(border=1)[0]
    step = size / modules
    left, top = width - 14 - size, 28.0
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(qr.matrix_iter(border=1)):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(left + col_index * step, top + row_index * step, step, step, style="F")
    pdf.set_font(FONT, size=6)
    pdf.set_xy(left - 4, top + size + 1)
    pdf.cell(size + 8, 4, "扫码验真", align="C")
    _seal(pdf, x=width - 14 - size / 2, y=pdf.h - 30, r=15, name=issuer)
    pdf.set_font(FONT, size=9)
    pdf.set_xy(14, pdf.h - 26)
    pdf.cell(90, 6, f"颁发机构：{issuer}")
    pdf.set_xy(14, pdf.h - 20)
    pdf.cell(90, 6, f"颁发日期：{issued_on}")
    pdf.set_font(FONT, size=6)
    pdf.set_xy(14, pdf.h - 13)
    pdf.cell(width - 28, 4, f"电子证照标识：{identifier}")
    if footer:
        pdf.set_xy(14, pdf.h - 10)
        pdf.cell(width - 28, 4, footer)
    if watermark:
        _watermark(pdf, watermark)
    if font is not None:
        prepare_output(font, path)
    return bytes(pdf.output())


def _watermark(pdf: FPDF, text: str) -> None:
    pdf.set_text_color(190, 190, 190)
    pdf.set_font(FONT, size=12)
    with pdf.local_context(fill_opacity=0.5, stroke_opacity=0.5):
        for i in range(3):
            cx, cy = 30 + i * 60, 50 + (i % 2) * 40
            with pdf.rotation(25, x=cx, y=cy):
                pdf.text(cx - 20, cy, text[:40])
    pdf.set_text_color(0, 0, 0)


def face_rows(licence: Any) -> list[tuple[str, str]]:
    """(label, value) of the face template in order, then holder and validity."""
    rows: list[tuple[str, str]] = []
    for item in licence.licence_type.face_fields:
        value = licence.face_data.get(item["key"])
        if value not in (None, ""):
            rows.append((item["label"], str(value)))
    until = licence.valid_until.isoformat() if licence.valid_until else "长期"
    rows.append(("证照编号", licence.number))
    rows.append(("有效期", f"{licence.valid_from.isoformat()} 至 {until}"))
    return rows
