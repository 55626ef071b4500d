"""Chinese search over the published catalogue, served from one PostgreSQL GIN index.

Each published item gets a ``tsvector`` built here in Python (not by a PostgreSQL text-search
parser, which does not segment Chinese):

- weight A: jieba tokens of the name (with the domain dictionary ``data/search_dict.txt``), the
  full pinyin of the name and of each token, and their pinyin initials ("hz" → 护照);
- weight B: the item's keywords (群众常用说法) and their pinyin;
- weight C: the department and the result name;
- weight D: each Han character of the name, which keeps one-character typos findable.

A query is segmented the same way, expanded with the synonyms in ``data/synonyms.txt``
(开饭店 → 食品经营许可) and with its own pinyin (a homophone typo such as 护招 has the pinyin of
护照), and becomes three ``tsquery`` tiers — all words, any word, any sub-word or character —
tried in that order until one finds enough; latin-letter queries match pinyin and initials by
prefix.
Ranking is ``ts_rank`` plus a bonus when the name contains the query. Everything runs through
``search_vector @@ tsquery``, which the GIN index serves (see the EXPLAIN test).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import combinations
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
_LATIN = re.compile(r"^[a-z]+$")
MAX_QUERY_LENGTH = 60
MAX_NEAR_WORDS = 6  # all-but-one combinations stay few (6 groups at most)
_STOPWORDS_TEXT = (
    "的 了 和 与 及 或 要 我 我要 想 想要 怎么 怎样 如何 什么 哪里 在哪 去 办理 办 需要 吗 呢 吧 "
    "一个 这个 那个 请问 手续 流程 材料"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
WEIGHTS = "DCBA"  # ts_rank weight order

_lock = threading.Lock()


@cache
def _tokenizer() -> jieba.Tokenizer:
    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.load_userdict(str(DATA_DIR / "search_dict.txt"))
        tokenizer.initialize()
        return tokenizer


@cache
def synonyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    rules: list[tuple[str, tuple[str, ...]]] = []
    for line in (DATA_DIR / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=>" not in line:
            continue
        left, right = line.split("=>", 1)
        terms = tuple(right.split())
        rules.extend((word, terms) for word in left.split())
    # Longest words first so "办营业执照" wins over "办执照".
    return tuple(sorted(rules, key=lambda rule: -len(rule[0])))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip().lower())[:MAX_QUERY_LENGTH]


# Segmentation and pinyin are pure functions of short strings that repeat a lot (department
# names, keywords, common words): memoised, indexing 10,000 items is several times faster.
@lru_cache(maxsize=16384)
def tokens(text: str) -> tuple[str, ...]:
    """jieba search-mode tokens of ``text`` without stop words or punctuation."""
    result = []
    for token in _tokenizer().lcut_for_search(normalise(text)):
        token = token.strip()
        if token and token not in STOPWORDS and _WORD.fullmatch(token):
            result.append(token)
    return tuple(result)


@lru_cache(maxsize=65536)
def pinyin(text: str) -> str:
    return "".join(lazy_pinyin("".join(_HAN.findall(text))))


@lru_cache(maxsize=65536)
def initials(text: str) -> str:
    return "".join(lazy_pinyin("".join(_HAN.findall(text)), style=Style.FIRST_LETTER))


def _pinyin_forms(words: Iterable[str]) -> list[str]:
    forms = []
    for word in words:
        if _HAN.search(word):
            forms.extend(form for form in (pinyin(word), initials(word)) if len(form) > 1)
    return forms


@dataclass(frozen=True)
class IndexedText:
    name: str
    keywords: str = ""
    name_en: str = ""
    department: str = ""
    result: str = ""


def document_lexemes(text: IndexedText) -> dict[str, str]:
    """Lexeme → weight letter (the strongest weight wins)."""
    lexemes: dict[str, str] = {}

    def add(words: Iterable[str], weight: str) -> None:
        for word in words:
            if not word:
                continue
            current = lexemes.get(word)
            if current is None or WEIGHTS.index(weight) > WEIGHTS.index(current):
                lexemes[word] = weight

    name_tokens = tokens(text.name)
    add(name_tokens, "A")
    add(english_words(text.name_en), "A")
    add([pinyin(text.name), initials(text.name), *_pinyin_forms(name_tokens)], "A")
    keyword_tokens = tokens(text.keywords)
    add(keyword_tokens, "B")
    add(_pinyin_forms(text.keywords.split()), "B")
    add(tokens(text.department) + tokens(text.result), "C")
    add(_HAN.findall(text.name), "D")
    return lexemes


# English stop words of a query or a name ("how to get an id card").
_ENGLISH_STOPWORDS_TEXT = (
    "a an the of for to and or in on at by with my i me how do does is are what where when "
    "need want get can"
)
ENGLISH_STOPWORDS = frozenset(_ENGLISH_STOPWORDS_TEXT.split())
_ENGLISH_WORD = re.compile(r"[a-z0-9]+")


def english_words(text: str) -> list[str]:
    """Lower-case words of an English name or query, without stop words; a plural's final
    "s" is dropped so that "passports" and "passport" meet (queries match by prefix)."""
    words = []
    for word in _ENGLISH_WORD.findall((text or "").lower()):
        if word in ENGLISH_STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(text: IndexedText) -> str:
    """A ``tsvector`` in PostgreSQL input syntax (``'护照':1A 'huzhao':2A …``)."""
    parts = [
        f"{_quote(lexeme)}:{position}{weight}"
        for position, (lexeme, weight) in enumerate(document_lexemes(text).items(), start=1)
    ]
    return " ".join(parts)


@dataclass(frozen=True)
class ParsedQuery:
    """Three ``tsquery`` tiers, tried in order until one finds enough (``selectors``):

    - ``strict_tsquery``: every word of the query (as written or by its pinyin, so homophone
      typos still match), or every word of an official name a synonym points at, or the
      pinyin of the whole query — few, relevant matches, so the GIN index serves it cheaply;
    - ``near_tsquery`` (three words or more): all words but one — one mistyped word;
    - ``tsquery``: any of those words (OR);
    - ``broad_tsquery``: adds search-mode sub-words and single characters (one-character
      typos that are not homophones).
    """

    text: str
    terms: tuple[str, ...]
    expansions: tuple[str, ...]
    tsquery: str
    broad_tsquery: str = ""
    strict_tsquery: str = ""
    near_tsquery: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.tsquery

    @property
    def tiers(self) -> list[str]:
        """The distinct non-empty tiers, strict first."""
        tiers = (self.strict_tsquery, self.near_tsquery, self.tsquery, self.broad_tsquery)
        return list(dict.fromkeys(t for t in tiers if t))


def _or(lexemes: Iterable[str]) -> str:
    return " | ".join(_quote(lexeme) for lexeme in dict.fromkeys(lexemes))


def _all(groups: Iterable[Iterable[str]]) -> str:
    """``( a | a' ) & ( b | b' )``: every group must match, by any of its forms."""
    parts = [_or(forms) for forms in groups]
    return " & ".join(f"( {part} )" for part in parts if part)


def _words(text: str) -> list[str]:
    """jieba accurate-mode words (the longest dictionary words), without stop words."""
    return [
        token
        for token in (t.strip() for t in _tokenizer().lcut(text))
        if token and token not in STOPWORDS and _WORD.fullmatch(token)
    ]


def _long_words(text: str) -> list[str]:
    """Words of ``text``; a single character left over by segmentation ("开" in 开公司, "丢" in
    驾照丢了) matches a large part of the catalogue and is dropped when longer words exist."""
    words = _words(text)
    if any(len(word) > 1 for word in words):
        return [word for word in words if len(word) > 1]
    return words


# Segmentation, pinyin and synonym expansion depend on the query string alone: memoised per
# worker process, so a repeated query costs no jieba or pinyin work (issue 15 §1).
@lru_cache(maxsize=4096)
def parse_query(raw: str) -> ParsedQuery:
    text = normalise(raw)
    if not text:
        return ParsedQuery("", (), (), "")
    compact = text.replace(" ", "")
    if _LATIN.fullmatch(compact):
        return _parse_latin(text, compact)
    words = _long_words(compact)
    expansions: list[str] = []
    for word, official in synonyms():
        if word in compact and not set(official) & set(expansions):
            expansions.extend(official)
    expanded_words = [w for term in expansions for w in [term, *_words(term)]]
    han = "".join(ch for ch in _HAN.findall(compact) if ch not in STOPWORDS)
    sounds = [pinyin(han)] if len(han) > 1 else []  # homophone typos (护招 → huzhao)
    word_sounds = [pinyin(word) for word in words if _HAN.search(word) and len(word) > 1]
    precise = [*words, *expanded_words, *sounds, *word_sounds]
    if not precise:
        return ParsedQuery(text, (), tuple(expansions), "")
    forms = [[word, *([pinyin(word)] if _HAN.search(word) else [])] for word in words]
    others = [
        *(_all([[w] for w in (_words(term) or [term])]) for term in expansions),
        _or(sounds),
    ]
    strict = _any([_all(forms), *others])
    # One mistyped word among three or more: all the other words must still match.
    near = ""
    if 3 <= len(forms) <= MAX_NEAR_WORDS:
        near = _any([*(_all(c) for c in combinations(forms, len(forms) - 1)), *others])
    broad = [*precise, *tokens(compact), *_HAN.findall(han)]
    return ParsedQuery(
        text,
        tuple(words),
        tuple(expansions),
        _or(precise),
        _or(broad),
        strict or _or(precise),
        near,
    )


def _parse_latin(text: str, compact: str) -> ParsedQuery:
    """Pinyin or initials typed without an IME, or English words (items' English names):
    prefix matches. Several English words must all match in the strict tier (or the whole
    string as one pinyin run: "shen fen zheng"); any of them in the broad one."""
    whole = f"{_quote(compact)}:*"
    words = [w for w in english_words(text) if w != compact]
    if " " not in text or not words:
        return ParsedQuery(text, (compact,), (), whole, whole, whole)
    prefixes = [f"{_quote(word)}:*" for word in dict.fromkeys(words)]
    strict = _any([whole, " & ".join(prefixes)])
    broad = " | ".join([whole, *prefixes])
    return ParsedQuery(text, tuple(words), (), broad, broad, strict)


def _any(parts: Iterable[str]) -> str:
    return " | ".join(f"( {part} )" for part in dict.fromkeys(parts) if part)
