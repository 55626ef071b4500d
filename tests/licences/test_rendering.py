"""The licence PDF's CJK font: parsed once per process, and every character of the page drawn
with the source font's own outline (the per-document small font is built correctly)."""

from __future__ import annotations

import io
import re
import time
import zlib

from fontTools import ttLib

from apps.licences import pdffont
from apps.licences.rendering import font_path, render_pdf

TEXT = "营业执照名称住所龘颁发日期ÀéĀ"  # CJK (composite glyphs), a rare character, accented Latin


def _render(title: str = "营业执照", value: str = TEXT) -> bytes:
    return render_pdf(
        title=title,
        rows=[("名称", value), ("住所", "广东省广州市天河区体育东路 8 号")],
        identifier="11440000MB2C93814T3X",
        issuer="广东省市场监督管理局",
        issued_on="2026-12-05",
        qr_url="https://example.test/licences/verify/t/abc",
        watermark="仅供办理开办餐饮店使用",
    )


def _stream(pdf: bytes, number: bytes) -> bytes:
    head = re.search(rb"\n" + number + rb" 0 obj\s*<<(.*?)>>\s*stream\r?\n", pdf, re.S)
    assert head, number
    length = int(re.search(rb"/Length (\d+)", head.group(1)).group(1))
    data = pdf[head.end() : head.end() + length]
    return zlib.decompress(data) if b"FlateDecode" in head.group(1) else data


def _embedded(pdf: bytes) -> tuple[ttLib.TTFont, dict[int, int], dict[int, str]]:
    """The embedded font, CID → glyph id and CID → character."""
    font_file = re.search(rb"/FontFile2 (\d+) 0 R", pdf).group(1)
    cid_to_gid = re.search(rb"/CIDToGIDMap (\d+) 0 R", pdf).group(1)
    to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", pdf).group(1)
    font = ttLib.TTFont(io.BytesIO(_stream(pdf, font_file)))
    table = _stream(pdf, cid_to_gid)
    gids = {cid: int.from_bytes(table[2 * cid : 2 * cid + 2]) for cid in range(len(table) // 2)}
    chars: dict[int, str] = {}
    cmap = _stream(pdf, to_unicode).decode("latin-1")
    for cid, code in re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,8})>", cmap):
        chars[int(cid, 16)] = bytes.fromhex(code).decode("utf-16-be")
    return font, gids, chars


def test_every_character_is_drawn_with_the_source_outline():
    # given: a page with CJK (mostly composite glyphs in this font), a rare character and Latin
    pdf = _render()
    font, gids, chars = _embedded(pdf)
    source = ttLib.TTFont(font_path(), fontNumber=0, lazy=True)
    source_cmap = source.getBestCmap()
    order = font.getGlyphOrder()
    # then: every character the page used maps to a glyph with the source's outline and advance
    seen = set(chars.values())
    assert set(TEXT + "扫码验真颁发机构") <= seen
    for cid, char in chars.items():
        name = order[gids[cid]]
        coords, ends, _ = font["glyf"][name].getCoordinates(font["glyf"])
        want = source_cmap[ord(char)]
        src_coords, src_ends, _ = source["glyf"][want].getCoordinates(source["glyf"])
        assert (list(coords), ends) == (list(src_coords), src_ends), char
        assert font["hmtx"][name][0] == source["hmtx"][want][0], char


def test_the_font_is_parsed_once_and_documents_do_not_share_subsets():
    # given: the font already parsed in this process
    _render()
    parsed = pdffont.parsed_font(font_path())
    # when: two documents with different characters are rendered
    started = time.perf_counter()
    first, second = _render(value="甲乙丙"), _render(value="丁戊己")
    elapsed = time.perf_counter() - started
    # then: no re-parse, and each embeds its own characters only
    assert pdffont.parsed_font(font_path()) is parsed
    first_chars = set(_embedded(first)[2].values())
    second_chars = set(_embedded(second)[2].values())
    assert {"甲", "乙", "丙"} <= first_chars
    assert not {"丁", "戊", "己"} & first_chars
    assert {"丁", "戊", "己"} <= second_chars
    assert not {"甲", "乙", "丙"} & second_chars
    # a generous bound for a loaded machine: parsing the font alone took ~0.3-0.6 s per file
    assert elapsed < 1.0
