"""The CJK font of the licence PDF, parsed once per process.

``FPDF.add_font`` parses the whole font for every document (WenQuanYi Micro Hei: a 5 MB
collection, ~49,500 glyphs, a few hundred milliseconds per file), and fpdf2's subsetting at output
mutates the parsed font in place, so a parsed font cannot simply be shared between documents.
Here the font is parsed once per process into read-only tables (fpdf2's metrics object as the
template, the raw outline of every glyph, advance widths, cmap); each document gets a copy of the
template with its own subset state, and just before output a small font holding only the glyphs
the document used (with their components) is built from those tables with fresh objects. fpdf2
then subsets that small font, which takes a few milliseconds instead of re-reading the big one.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fontTools import ttLib
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

if TYPE_CHECKING:
    from collections.abc import Iterable

# Tables copied as they are: header, metrics headers, names and the hinting programs the glyph
# instructions call. Layout tables (GSUB/GPOS/GDEF), vertical metrics and FFTM are not needed
# in a horizontal PDF (fpdf2 drops most of them as well).
_PLAIN_TABLES = ("head", "hhea", "maxp", "OS/2", "name", "gasp", "cvt ", "fpgm", "prep")


@dataclass(frozen=True)
class ParsedFont:
    path: str
    template: TTFFont
    raw_tables: dict[str, bytes]
    outlines: dict[str, bytes]
    metrics: dict[str, tuple[int, int]]
    post_fields: dict[str, object]
    # Code points of each glyph name (the inverse of the cmap).
    code_points: dict[str, tuple[int, ...]]
    # A glyf table holding only the source glyph order: component glyph ids in the raw outlines
    # are resolved to names against it.
    source_order: object


_lock = threading.Lock()
_parsed: dict[str, ParsedFont] = {}


@functools.cache
def cacheable(path: str) -> bool:
    """Whether the font has TrueType outlines (a ``glyf`` table), which is what the small
    per-document font is built from; a CFF font set through ``LICENCE_PDF_FONT`` goes through
    fpdf2's own ``add_font``."""
    return "glyf" in ttLib.TTFont(path, fontNumber=0, lazy=True)


def parsed_font(path: str) -> ParsedFont:
    """The font at ``path`` (face 0 of a collection), parsed on first use in this process."""
    font = _parsed.get(path)
    if font is None:
        with _lock:
            font = _parsed.get(path)
            if font is None:
                font = _parse(path)
                _parsed[path] = font
    return font


def _parse(path: str) -> ParsedFont:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scratch = FPDF()
    scratch.add_font("template", fname=path, collection_font_number=0)
    template = scratch.fonts["template"]
    source = ttLib.TTFont(path, fontNumber=0, lazy=True, recalcTimestamp=False)
    raw_tables = {tag: source.reader[tag] for tag in _PLAIN_TABLES if tag in source.reader}
    order = source.getGlyphOrder()
    loca = source["loca"]
    glyf_data = source.reader["glyf"]
    outlines = {name: glyf_data[loca[i] : loca[i + 1]] for i, name in enumerate(order)}
    metrics = dict(source["hmtx"].metrics)
    post = source["post"]
    post_fields = {
        key: value
        for key, value in vars(post).items()
        if key not in ("formatType", "mapping", "extraNames", "glyphOrder", "data")
    }
    # The template's own parsed font (~23 MB live) is not needed: layout reads only its metrics
    # (cmap, widths, glyph ids), and each document gets its small font before output.
    template.ttfont = None
    source_order = ttLib.newTable("glyf")
    source_order.glyphOrder = order
    code_points: dict[str, list[int]] = defaultdict(list)
    for code_point, name in template.cmap.items():
        code_points[name].append(code_point)
    return ParsedFont(
        path,
        template,
        raw_tables,
        outlines,
        metrics,
        post_fields,
        {name: tuple(points) for name, points in code_points.items()},
        source_order,
    )


def add_cached_font(pdf: FPDF, family: str, path: str) -> TTFFont:
    """Register the process-wide parsed font on ``pdf`` under ``family`` (fpdf2's add_font
    without parsing). Call :func:`prepare_output` before ``pdf.output()``."""
    template = parsed_font(path).template
    font = object.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(template, slot):
            setattr(font, slot, getattr(template, slot))
    font.i = len(pdf.fonts) + 1
    font.fontkey = family
    # Width lookups of characters the font lacks insert the default into this mapping.
    font.cw = defaultdict(template.cw.default_factory, template.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.color_font = None
    font.subset = SubsetMap(font)
    pdf.fonts[family] = font
    return font


def prepare_output(font: TTFFont, path: str) -> None:
    """Give ``font`` a small font with only the glyphs the document used, for fpdf2 to subset
    and embed."""
    font.ttfont = _small_font(parsed_font(path), font.subset.get_all_glyph_names())


def _small_font(parsed: ParsedFont, names: Iterable[str]) -> ttLib.TTFont:
    wanted = [".notdef", *(n for n in names if n != ".notdef")]
    if parsed.template.cmap.get(0x20):
        wanted.append(parsed.template.cmap[0x20])
    glyph_table = ttLib.newTable("glyf")
    glyphs: dict[str, Glyph] = {}
    order: list[str] = []
    pending = list(dict.fromkeys(wanted))
    while pending:
        name = pending.pop(0)
        if name in glyphs or name not in parsed.outlines:
            continue
        glyph = Glyph(parsed.outlines[name])
        glyphs[name] = glyph
        order.append(name)
        if glyph.isComposite():
            glyph.expand(parsed.source_order)
            pending.extend(c.glyphName for c in glyph.components if c.glyphName not in glyphs)

    font = ttLib.TTFont(recalcTimestamp=False)
    font.setGlyphOrder(order)
    for tag, data in parsed.raw_tables.items():
        table = ttLib.newTable(tag)
        table.decompile(data, font)
        font[tag] = table
    glyph_table.glyphs = glyphs
    glyph_table.glyphOrder = order
    font["loca"] = ttLib.newTable("loca")
    font["glyf"] = glyph_table
    hmtx = ttLib.newTable("hmtx")
    hmtx.metrics = {name: parsed.metrics[name] for name in order}
    font["hmtx"] = hmtx
    post = ttLib.newTable("post")
    vars(post).update(parsed.post_fields)
    post.formatType = 3.0
    font["post"] = post
    cmap = ttLib.newTable("cmap")
    cmap.tableVersion = 0
    mapping = {cp: name for name in order for cp in parsed.code_points.get(name, ())}
    subtables = []
    for platform, encoding, fmt in ((3, 1, 4), (0, 3, 4)):
        subtable = ttLib.tables._c_m_a_p.CmapSubtable.newSubtable(fmt)
        subtable.platformID, subtable.platEncID, subtable.language = platform, encoding, 0
        subtable.cmap = {cp: name for cp, name in mapping.items() if cp <= 0xFFFF}
        subtables.append(subtable)
    if any(cp > 0xFFFF for cp in mapping):
        subtable = ttLib.tables._c_m_a_p.CmapSubtable.newSubtable(12)
        subtable.platformID, subtable.platEncID, subtable.language = 3, 10, 0
        subtable.cmap = mapping
        subtables.append(subtable)
    cmap.tables = subtables
    font["cmap"] = cmap
    return font
