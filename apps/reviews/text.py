"""Free text of a rating: numbers masked before storing, moderation by a word list.

DOMAIN.md §4.7 masking: ID ``1101**********002X``, phone ``138****1234``. Full-width digits and
letters in the comment become ASCII, and every number is masked *before* it reaches the database,
so no typed number is ever stored, logged or dumped in clear.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.cn import ric

# 18-character resident ID numbers, possibly typed with spaces or dashes between groups.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ -]?(\d{8})[ -]?(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86/86 and separators (138 0013 8000, 138-0013-8000).
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
# Landlines with an area code: 0791-86812345, (0791)86812345, 010 12345678.
_LANDLINE = re.compile(r"(?<!\d)[(（]?(0\d{2,3})[)）]?[ -]?(\d{3,4})[ -]?(\d{4})(?!\d)")
# Anything else that still looks like a long number (an ID with a wrong check digit, an old
# 15-digit ID, a bank card): keep the first 3 and last 2 characters.
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{6,}(\d{1}[0-9Xx])(?![0-9A-Za-z])")


# Full-width digits, Latin letters, plus and minus signs and the ideographic space become ASCII
# so typed numbers are found; Chinese punctuation (，。) is left as written.
_FOLD = {
    **{0xFF10 + n: 0x30 + n for n in range(10)},
    **{0xFF21 + n: 0x41 + n for n in range(26)},
    **{0xFF41 + n: 0x61 + n for n in range(26)},
    0xFF0B: ord("+"),
    0xFF0D: ord("-"),
    0x3000: ord(" "),
}


def _mask_id(match: re.Match[str]) -> str:
    number = "".join(match.groups()).upper()
    if not ric.is_valid(number):
        # Not a valid ID: leave it to the generic long-number rule below.
        return "".join(match.groups())
    return number[:4] + "*" * 10 + number[-4:]


def mask_numbers(text: str) -> str:
    """Mask every typed ID, mobile, landline and other long number in ``text``."""
    text = text.translate(_FOLD)
    text = _ID.sub(_mask_id, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    text = _LONG_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 6}{m.group(2)}", text)
    return text


def held_words(text: str, words: list[str]) -> list[str]:
    """The configured words found in ``text`` (case-insensitive, after NFKC; spaces and
    punctuation between characters are ignored so 敏 感 词 is found too)."""
    folded = re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).casefold())
    return [w for w in words if w and re.sub(r"[\s\W_]+", "", w.casefold()) in folded]
