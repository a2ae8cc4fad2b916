"""Features of a line: shallow text shape, hashed lexical n-grams and words, and context.

Every line that carries text gets one row. The row joins three blocks:

- hashed character 1..n-grams and jieba words of a bounded window of the normalized line (its
  head and tail), so a 17,000-character line costs no more to hash than a short one;
- shallow features of the whole line (length, character shares, punctuation, URL/date/ICP
  patterns, list markers, separators), each computed in one scan;
- position in the document and the shallow features of the nearest lines around it.

Feature names are strings (see `dense_names`).
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from itertools import accumulate, chain

import numpy as np

from .lexical import END, GAP, START, _windows, _words, hashed_entries, ragged_take, window  # noqa: F401 - window, _words: the lexical API
from .lexical import distinct as _distinct
from .normalize import strip_pinyin, to_simplified
from .segment import KINDS, SPAM_TERMS, Unit, units

FEATURE_VERSION = 8


@dataclass(frozen=True)
class FeatureSettings:
    """How lines become vectors; stored with every model and checked when it loads."""

    n_features: int = 2**18
    ngram_max: int = 3
    head_chars: int = 100
    tail_chars: int = 40
    word_chars: int = 24
    # Hashed counts are divided by sqrt(min(n-grams, norm_cap)): a cue phrase weighs as much in
    # a long line as in a line of norm_cap n-grams, instead of fading with the line's length.
    norm_cap: int = 40
    # Dense (shape, position, neighbour) values are scaled down: under the same L2 penalty their
    # weights then cost more, so the model cannot lean on a few layout regularities of its
    # training sites and must agree with the lexical evidence.
    dense_scale: float = 0.1
    # Page structure (segment kinds, appended-article and list markers above the unit, repeats
    # across documents) is scaled less: these cues hold on any site, not only the training ones.
    page_scale: float = 1.0
    neighbors: tuple[int, ...] = (-3, -2, -1, 1, 2, 3)
    version: int = FEATURE_VERSION

    def to_dict(self) -> dict:
        return {**asdict(self), "neighbors": list(self.neighbors)}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSettings:
        return cls(**{**data, "neighbors": tuple(data["neighbors"])})


# --- shallow features of one line -----------------------------------------------------------

def _multiline(pattern: re.Pattern) -> re.Pattern:
    """`pattern` for many texts joined by newlines: ^ and $ per text, no whitespace across texts."""
    return re.compile(pattern.pattern.replace(r"\s", r"[^\S\n]"), pattern.flags | re.MULTILINE)


URL = re.compile(r"https?://|www\.|\.(?:com|cn|net|org|html?|shtml|aspx?)\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE)
ICP = re.compile(r"ICP|备案|備案|公网安备|公網安備|版权所有|版權所有|copyright|©", re.IGNORECASE)
DATE = re.compile(r"\d{2,4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|\d{1,2}月\d{1,2}日|\d{4}年")
TIME = re.compile(r"\d\d?:\d\d")  # \d{1,2}:\d{2}, starting with a character set
TRAILING_DATE = re.compile(r"(?:\d{2,4}[-/.年])?\d{1,2}[-/.月]\d{1,2}日?\s*$")
LIST_MARKER = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[.．、](?!\d)"
    r"|第[一二三四五六七八九十\d]+[章节条部分点篇个是]|[①-⑳])"
)
BULLET = re.compile(r"^\s*[•·◆◇■□●○▪►▶\-–—*+>]")
PAGE_CHUNK = re.compile(r"^\s*\d{1,3}、\S")
KEY_VALUE = re.compile(r"^\s*\S{1,6}\s*[:：]")
INDENT = re.compile(r"^(?:\u3000|\s{2,})")
NUMBERISH = re.compile(r"^[\d\s.,:：/¥$%+\-()（）万kKwW]+$")
SEPARATORS = "|丨_>»/-·,，"
SEPARATOR_RUN = re.compile(r"\s[|丨>»/·-]\s|[|丨]")
# The same patterns for many unit windows joined by newlines (see `_flags`), written so that
# each starts with a literal or a character set and `re` skips ahead to where it can match.
# Each comes with the characters one of which any match holds (None: any window may match):
# only the windows holding one are searched.
_S = r"[^\S\n]*"
_SCANNED_FLAGS = [
    (re.compile(r"[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.|\.(?i:com|cn|net|org|html?|shtml|aspx?)\b"), "./"),  # URL
    (re.compile(r"@(?<=[\w.-]@)[\w-]+\.[a-z]{2,}", re.IGNORECASE), "@"),  # EMAIL
    (re.compile(ICP.pattern.replace("ICP|", "ICP|icp|Icp|").replace("|copyright|", "|copyright|Copyright|COPYRIGHT|")),
     "Ii备備公版cC©"),  # ICP
    (re.compile(rf"\d(?:\d{{1,3}}{_S}[-/.年]{_S}\d{{1,2}}{_S}[-/.月]{_S}\d|\d?月\d{{1,2}}日|\d{{3}}年)"), "-/.年月"),  # DATE
    (_multiline(TIME), ":"),
]
# Anchored at the start of a window (a line of the joined text), with the characters one of
# which any match holds (None: see `_numberish_candidates`).
_ANCHORED_FLAGS = [
    (_multiline(LIST_MARKER), "、.．)）章节条部分点篇个是" + "".join(chr(c) for c in range(ord("①"), ord("⑳") + 1))),
    (_multiline(BULLET), "•·◆◇■□●○▪►▶-–—*+>"),
    (_multiline(PAGE_CHUNK), "、"),
    (_multiline(KEY_VALUE), ":："),
    (re.compile(r"^(?:[\d.,:：/¥$%+\-()（）万kKwW]|[^\S\n])+$", re.MULTILINE), None),  # NUMBERISH
]
# TRAILING_DATE, read backwards from the end of each window: anchored, so checked at once.
_TRAILING_DATE_REVERSED = re.compile(r"^[^\S\n]*日?\d{1,2}[-/.月]\d{1,2}(?:[-/.年]\d{2,4})?", re.MULTILINE)
TAIL_DATE_CHARS = 20
_TRAILING_DATE_CHARS = "-/.月"
_SEPARATOR_RUN_M = _multiline(SEPARATOR_RUN)
_SEPARATOR_RUN_CHARS = "|丨>»/·-"
# Case-insensitive by listing the cases: a case-insensitive pattern could not skip ahead.
_SPAM_TERMS_I = re.compile(SPAM_TERMS.pattern.replace("|av|porn|", "|av|AV|Av|aV|porn|Porn|PORN|"))
# The spam terms are plain words: a match starts with the first character of one of them.
_SPAM_TERMS_FIRST = "".join(sorted({term[0] for term in _SPAM_TERMS_I.pattern.split("|")}))


SHALLOW_NAMES = [
    "len_log", "len_le2", "len_le6", "len_le15", "len_le40", "len_gt200", "len_gt2000",
    "share_cjk", "share_latin", "share_digit", "share_space", "share_punct",
    "sentence_ends_log", "comma_share", "ends_sentence", "ends_colon", "ends_comma", "ends_bracket",
    "has_url", "has_email", "has_icp", "has_date", "has_time", "trailing_date",
    "list_marker", "bullet", "page_chunk", "key_value", "indent", "numberish",
    "brackets_log", "separator_share", "separator_max_log", "separator_spaced_log",
    "spam_terms_log", "no_sentence_punct_chain",
]
# The shallow features copied from each neighbour.
NEIGHBOR_KEYS = [
    "len_log", "len_le6", "len_le15", "share_cjk", "share_digit", "sentence_ends_log",
    "ends_sentence", "has_url", "has_date", "trailing_date", "list_marker", "bullet",
    "key_value", "indent", "separator_share",
]
NEIGHBOR_INDEX = [SHALLOW_NAMES.index(k) for k in NEIGHBOR_KEYS]
# Pattern flags read the head and tail of a line only: cost stays bounded on 17,000-char lines.
FLAG_HEAD, FLAG_TAIL = 160, 80
COUNT_CHARS = 4000


def _class_counts(texts: list[str]) -> np.ndarray:
    """Per text: counts of CJK, Latin, digit, space, punctuation, sentence-end and comma characters.

    One vectorized pass over all the texts' code points: one lookup in `_CLASSES` per character.
    """
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _CLASSES[np.minimum(codes, 0x10000)]
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    owner = np.repeat(np.arange(len(texts)), sizes)
    out = np.zeros((len(texts), 7))
    out[:, :5] = np.bincount(owner * 5 + (classes & 7), minlength=len(texts) * 5).reshape(len(texts), 5)
    for j, bit in ((5, _SENTENCE_END_BIT), (6, _COMMA_BIT)):
        out[:, j] = np.bincount(owner[(classes & bit) != 0], minlength=len(texts))
    return out


SPACE_CODES = np.array([ord(c) for c in " \t\u3000\u00a0\u2002\u2003\u200b\ufeff"], dtype=np.uint32)
SENTENCE_END_CODES = np.array([ord(c) for c in "。!?;…"], dtype=np.uint32)
COMMA_CODES = np.array([ord(c) for c in ",、，"], dtype=np.uint32)
_SENTENCE_END_BIT, _COMMA_BIT = 8, 16


def _class_table() -> np.ndarray:
    """Per BMP code point (the last entry stands for every astral one): its class in the low
    bits (0 CJK, 1 Latin, 2 digit, 3 space, 4 punctuation and everything else) and a bit each
    for sentence-end and comma marks. Full-width ASCII counts as its ASCII character."""
    codes = np.arange(0x10001, dtype=np.uint32)
    fold = np.where((codes >= 0xFF01) & (codes <= 0xFF5E), codes - 0xFEE0, codes)
    lower = fold | 0x20
    table = np.full(len(codes), 4, dtype=np.uint8)
    table[((fold >= 0x3400) & (fold <= 0x9FFF)) | ((fold >= 0xF900) & (fold <= 0xFAFF))] = 0
    table[(lower >= 0x61) & (lower <= 0x7A)] = 1
    table[(fold >= 0x30) & (fold <= 0x39)] = 2
    table[np.isin(fold, SPACE_CODES)] = 3
    table[0x10000] = 4
    table[np.isin(fold, SENTENCE_END_CODES)] |= _SENTENCE_END_BIT
    table[np.isin(fold, COMMA_CODES)] |= _COMMA_BIT
    return table


_CLASSES = _class_table()


def _joined(texts: list[str], sizes: np.ndarray | None = None) -> tuple[str, np.ndarray]:
    """Texts (holding no newline) joined by newlines, and where each starts (`sizes`: their lengths, if known)."""
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) if sizes is None else sizes
    return "\n".join(texts), np.cumsum(sizes + 1) - (sizes + 1)


def _per_text(pattern: re.Pattern, joined: str, starts: np.ndarray) -> np.ndarray:
    """Matches of `pattern` in each of the texts joined at `starts` (see `_joined`)."""
    positions = [m.start() for m in pattern.finditer(joined)]
    if not positions:
        return np.zeros(len(starts))
    return np.bincount(np.searchsorted(starts, positions, side="right") - 1, minlength=len(starts)).astype(float)


def _char_counts(codes: np.ndarray, sizes: np.ndarray, chars: str) -> np.ndarray:
    """Per text (code points of texts of `sizes`, concatenated): count of each of `chars`."""
    targets = np.array(sorted(ord(c) for c in chars), dtype=np.uint32)
    where = np.flatnonzero(np.isin(codes, targets))
    owner = np.searchsorted(np.cumsum(sizes), where, side="right")
    column = np.searchsorted(targets, codes[where])
    flat = np.bincount(owner * len(targets) + column, minlength=len(sizes) * len(targets))
    order = np.searchsorted(targets, [ord(c) for c in chars])
    return flat.reshape(len(sizes), len(targets))[:, order].astype(float)


def _candidate_table() -> tuple[np.ndarray, dict[str, int], int]:
    """Per BMP code point, a bit for each candidate character set of the flag patterns (and one
    for the characters a NUMBERISH window cannot hold: CJK but 万, Latin letters but k and w)."""
    sets = [chars for _, chars in _SCANNED_FLAGS + _ANCHORED_FLAGS if chars]
    sets += [_TRAILING_DATE_CHARS, _SEPARATOR_RUN_CHARS, _SPAM_TERMS_FIRST]
    bits = {chars: 1 << k for k, chars in enumerate(dict.fromkeys(sets))}
    table = np.zeros(0x10001, dtype=np.uint32)  # the last entry stands for every astral code point
    for chars, bit in bits.items():
        table[[ord(c) for c in chars]] |= bit
    not_numberish = 1 << len(bits)
    letters = [c for c in range(ord("A"), ord("z") + 1) if chr(c).isalpha() and chr(c) not in "kKwW"]
    table[letters] |= not_numberish
    table[0x3400:0xA000] |= not_numberish
    table[ord("万")] &= ~np.uint32(not_numberish)
    return table, bits, not_numberish


_CANDIDATES, _CANDIDATE_BITS, _NOT_NUMBERISH = _candidate_table()


class _Windows:
    """Unit windows with their code points, for pattern counts restricted to the windows that can match."""

    def __init__(self, windows: list[str]):
        self.windows = windows
        self.sizes = np.fromiter(map(len, windows), dtype=np.int64, count=len(windows))
        self.codes = np.frombuffer("".join(windows).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        # Which candidate sets each window holds a character of: one lookup and one OR per window.
        self.sets = np.zeros(len(windows), dtype=np.uint32)
        filled = np.flatnonzero(self.sizes)
        if len(filled):
            found = _CANDIDATES[np.minimum(self.codes, 0x10000)]
            self.sets[filled] = np.bitwise_or.reduceat(found, (np.cumsum(self.sizes) - self.sizes)[filled])

    def count(self, pattern: re.Pattern, chars: str | None) -> np.ndarray:
        """Matches of `pattern` per window; `chars`: a candidate set, one of which any match holds,
        so only the windows holding one are searched (None: search all)."""
        if chars is None:
            return _per_text(pattern, *_joined(self.windows, self.sizes))
        return self._count_in(pattern, (self.sets & _CANDIDATE_BITS[chars]) != 0)

    def count_numberish(self, pattern: re.Pattern) -> np.ndarray:
        return self._count_in(pattern, (self.sets & _NOT_NUMBERISH) == 0)

    def _count_in(self, pattern: re.Pattern, candidates: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.windows))
        rows = np.flatnonzero(candidates)
        if len(rows):
            out[rows] = _per_text(pattern, *_joined([self.windows[k] for k in rows.tolist()], self.sizes[rows]))
        return out


def _flags(lines: list[str], texts: list[str]) -> np.ndarray:
    """Pattern flags of each unit, from its head and tail (texts stripped); one regex pass per flag."""
    cap = FLAG_HEAD + FLAG_TAIL
    windows = _Windows([t if len(t) <= cap else t[:FLAG_HEAD] + " " + t[-FLAG_TAIL:] for t in texts])
    sizes = windows.sizes
    counts = _char_counts(windows.codes, sizes, SEPARATORS + BRACKET_CHARS + "。")
    separators = counts[:, : len(SEPARATORS)]
    brackets = counts[:, len(SEPARATORS) : -1].sum(axis=1)
    full_stops = counts[:, -1]
    lasts = np.array([ord(w[-1]) if w else 0 for w in windows.windows], dtype=np.uint32)
    ends = [np.isin(lasts, [ord(c) for c in chars]) for chars in ("。！？!?…”\"", ":：", "，,、；;", ")）]】>》")]
    found = [windows.count(p, chars) > 0 for p, chars in _SCANNED_FLAGS]
    tails = _Windows([w[-TAIL_DATE_CHARS:][::-1] for w in windows.windows])
    found.append(tails.count(_TRAILING_DATE_REVERSED, _TRAILING_DATE_CHARS) > 0)
    found += [(windows.count(p, chars) if chars else windows.count_numberish(p)) > 0 for p, chars in _ANCHORED_FLAGS]
    indent = [line[:1] == "\u3000" or line[:2].isspace() and len(line) > 1 for line in lines]
    sep_max = separators.max(axis=1)
    return np.column_stack([
        *ends, *found[:10], indent, found[10],
        np.log1p(brackets) / 4,
        np.minimum(separators.sum(axis=1) / np.maximum(sizes, 1) * 5, 1.0), np.log1p(sep_max) / 4,
        np.log1p(windows.count(_SEPARATOR_RUN_M, _SEPARATOR_RUN_CHARS)) / 4,
        np.log1p(windows.count(_SPAM_TERMS_I, _SPAM_TERMS_FIRST)) / 3,
        (sep_max >= 3) & (full_stops == 0),
    ]).astype(float)


BRACKET_CHARS = "【】[]《》<>〈〉"


def shallow(lines: list[str]) -> np.ndarray:
    """Shape of each line, each value roughly in [0, 1]; one row per line.

    Pinyin left after characters by converters is removed first: it is not Latin text.
    """
    joined = "\n".join(lines)
    lines = strip_pinyin(joined).split("\n") if "(" in joined or "（" in joined else lines
    texts = [line.strip() for line in lines]
    n = np.array([len(t) for t in texts], dtype=float)
    # Character classes are counted in a bounded window of each text and scaled to its length.
    sample = [t if len(t) <= COUNT_CHARS else t[: COUNT_CHARS // 2] + t[-COUNT_CHARS // 2 :] for t in texts]
    counts = _class_counts(sample) * (n / np.maximum([len(t) for t in sample], 1))[:, None]
    size = np.maximum(n, 1.0)[:, None]
    shares = counts[:, :5] / size
    lengths = np.column_stack([
        np.log1p(n) / 10, n <= 2, n <= 6, n <= 15, n <= 40, n > 200, n > 2000,
    ])
    sentences = np.column_stack([np.log1p(counts[:, 5]) / 5, np.minimum(counts[:, 6] / size[:, 0] * 10, 1.0)])
    return np.hstack([lengths, shares, sentences, _flags(lines, texts)])


# --- context: position and neighbours ------------------------------------------------------

POSITION_NAMES = [
    "traditional_share", "doc_traditional_share", "less_traditional_than_doc",
    "pos_rel", "pos_chars_before", "pos_first", "pos_last", "pos_from_start_log", "pos_to_end_log",
    "doc_lines_log", "len_vs_longest", "is_longest", "repeated_in_doc", "blank_before", "blank_after",
]
# Where a unit sits in its line (when the line was cut into segments) and what cut it.
SEGMENT_NAMES = ["seg_fragment", "seg_first", "seg_middle", "seg_last", "seg_line_len_log"] + [
    f"seg_kind:{kind}" for kind in KINDS[1:]
]
# The page as a whole: sections that append other articles or lists, a title repeated
# elsewhere on the page, and lines that recur in other documents filtered together.
PAGE_NAMES = ["after_appendix_marker", "after_list_marker", "text_elsewhere_in_doc",
              "repeat_docs_any", "repeat_docs_log", "repeat_docs_long", "editor_note",
              "before_salutation", "before_salutation_long", "like_title_below", "like_title_above",
              "part_heading", "part_heading_before_text", "copied_below"]
# A site's editorial note about the document ("下面是小编为大家整理的……仅供参考"), anywhere in the unit.
# Every branch starts with a literal, so `re` skips ahead to their first characters.
_COLLECTED = r"(?:是|就是|为)[^。！？!?]{0,30}(?:整理|收集|精选|搜集|带来|分享)"
EDITOR_NOTE = re.compile(
    r"小编|仅供参考|仅供大家参考|欢迎阅读|欢迎借鉴|希望对(?:你|您|大家)有所帮助|一起来看看吧|一起来看看|让我们一起|"
    rf"以下{_COLLECTED}|下面{_COLLECTED}"
)
# The note opens or closes an intro paragraph: its head and tail are read.
EDITOR_HEAD, EDITOR_TAIL = 200, 100
_EDITOR_NOTE_M = re.compile(EDITOR_NOTE.pattern.replace("[^。！？!?]", "[^。！？!?\n]"))
APPENDIX_MARKER = re.compile(
    r"^\W{0,3}(?:扩展阅读|延伸阅读|拓展阅读|拓展资料|扩展资料|推荐阅读|相关阅读|相关范文|更多范文|精选范文|范文推荐|更多阅读|相关延伸)"
)
LIST_MARKER_HEADING = re.compile(
    r"^\W{0,3}(?:相关文章|相关推荐|相关文档|相关资料|相关栏目|猜你喜欢|热门文章|热门推荐|热门范文|最新文章|最新更新|最新范文|"
    r"推荐文章|精彩推荐|往期推荐|大家都在看|看了本文的还看了|你可能感兴趣|为你推荐|本类热门|相关热词|热门搜索|发表评论|网友评论)"
)
MARKER_CHARS = 30
# The same, for many texts joined by newlines: one scan, no match across texts.
_APPENDIX_MARKER_M, _LIST_MARKER_HEADING_M = (
    re.compile(p.pattern.replace(r"^\W{0,3}", r"^[^\w\n]{0,3}"), re.MULTILINE) for p in (APPENDIX_MARKER, LIST_MARKER_HEADING))
# A document's salutation ("同志们：", "尊敬的各位来宾："): a short unit that ends with whom it
# addresses and a colon (not a heading such as "大家都在看：" or "领导讲话："). What stands above
# it, but the title and the lines that name the occasion, is usually the site's (its lead, its
# navigation).
SALUTATION = re.compile(
    r"(?:同志|领导|来宾|嘉宾|同事|朋友|老师|同学|女士|先生|战友|乡亲|代表|家长|小朋友|员工|伙伴|职工|会员|校友|评委|"
    r"委员|同仁|干部|党员|青年|团员|队员|师生|各位|大家)们?[^\S\n]*[:：]$"
)
SALUTATION_CHARS = 40
# The heading of one document of a collection page ("…致辞 篇1", "篇一：…", "【第二篇】…"): body
# when text follows it, chrome in a table of contents (where another heading follows).
_PART = r"[0-9一二三四五六七八九十]{1,3}"
PART_HEADING = re.compile(
    rf"篇\s*[(（【\[]?{_PART}[)）】\]]?$|^\W{{0,2}}(?:第{_PART}篇|篇{_PART})(?:\W|$)"
)
PART_CHARS = 60
# Only a salutation in the first half of a page's units opens its document.
SALUTATION_WITHIN = 0.5
# A unit above the salutation this long is a paragraph, not a title or an occasion line.
LEAD_CHARS = 40
ELSEWHERE_CHARS = (4, 60)
ELSEWHERE_UNITS = 200


def _neighbor_names(settings: FeatureSettings) -> list[str]:
    names = []
    for off in settings.neighbors:
        tag = f"prev{-off}" if off < 0 else f"next{off}"
        names.append(f"{tag}:exists")
        names.extend(f"{tag}:{k}" for k in NEIGHBOR_KEYS)
    return names


def dense_names(settings: FeatureSettings) -> list[str]:
    return SHALLOW_NAMES + POSITION_NAMES + SEGMENT_NAMES + PAGE_NAMES + _neighbor_names(settings)


def _scales(settings: FeatureSettings) -> np.ndarray:
    """Per dense column: page_scale for the segment and page blocks, dense_scale for the rest."""
    names = dense_names(settings)
    structural = set(SEGMENT_NAMES) | set(PAGE_NAMES)
    return np.array([settings.page_scale if name in structural else settings.dense_scale for name in names])


@dataclass
class _Pages:
    """Where each unit of a batch sits: the units of the pages that have any, one page after another."""

    documents: list[list[str]]  # the lines of each page
    units: list[Unit]
    sizes: np.ndarray  # units per page
    starts: np.ndarray  # first unit of each page
    page: np.ndarray  # page of each unit
    order: np.ndarray  # position of each unit in its page
    columns: np.ndarray  # the fields of each unit (line, start, end, kind, part, parts)

    @classmethod
    def of(cls, documents: list[list[str]], doc_units: list[list[Unit]]) -> _Pages:
        kept = [k for k, us in enumerate(doc_units) if us]
        sizes = np.array([len(doc_units[k]) for k in kept], dtype=np.int64)
        starts = np.cumsum(sizes) - sizes
        page = np.repeat(np.arange(len(kept)), sizes)
        units = [u for k in kept for u in doc_units[k]]
        return cls([documents[k] for k in kept], units, sizes, starts, page, np.arange(int(sizes.sum())) - starts[page],
                   np.fromiter(chain.from_iterable(units), dtype=np.int64, count=6 * len(units)).reshape(-1, 6))

    def slices(self):
        return ((a, a + n) for a, n in zip(self.starts.tolist(), self.sizes.tolist()))


def _after(flags: np.ndarray, pages: _Pages) -> np.ndarray:
    """1 for the units after the first flagged one of their page."""
    first = np.minimum.reduceat(np.where(flags > 0, pages.order, pages.sizes[pages.page]), pages.starts)
    return (pages.order > first[pages.page]).astype(float)


def _elsewhere(stripped: list[str]) -> list[bool]:
    """Whether a short unit's text also stands inside another unit of the page (a title in a breadcrumb)."""
    lo, hi = ELSEWHERE_CHARS
    joined = "\n".join(s[:200] for s in stripped[:ELSEWHERE_UNITS])
    find = joined.find
    # joined.count(s) > 1: a second occurrence after the end of the first (count's are disjoint),
    # found without reading the rest of the page.
    return [lo <= len(s) <= hi and (first := find(s)) >= 0 and find(s, first + len(s)) >= 0 for s in stripped]


# Two title-like units near each other at the top of a page that share most of their character
# pairs: the page's title over the document's own (worded a little differently), or a title
# repeated in the site's meta. Read for title-like units among a page's first units only.
TITLE_CHARS = (4, 40)
TITLE_UNITS = 24
TITLE_REACH = 4
TITLE_LIKENESS = 0.6
_SENTENCE_END = re.compile(r"[。！？!?；;，,]")


def _like_titles(stripped: list[str]) -> tuple[list[bool], list[bool]]:
    """Per unit of a page: whether a title-like unit within TITLE_REACH below it (above it) is
    like it (Dice coefficient of their character pairs)."""
    lo, hi = TITLE_CHARS
    pairs = {}
    for k, s in enumerate(stripped[:TITLE_UNITS]):
        if lo <= len(s) <= hi and not _SENTENCE_END.search(s):
            pairs[k] = {s[i : i + 2] for i in range(len(s) - 1)}
    below, above = [False] * len(stripped), [False] * len(stripped)
    for k, mine in pairs.items():
        for j in range(k + 1, k + TITLE_REACH + 1):
            other = pairs.get(j)
            if other is not None and 2 * len(mine & other) >= TITLE_LIKENESS * (len(mine) + len(other)):
                below[k] = above[j] = True
    return below, above


# A site's preview of the document above it: the document's opening words copied (title and
# first sentences run together, cut off, often after a label such as 简介：). Read for long
# units among a page's first units: whether their opening words stand again in the text below.
COPY_CHARS = 40
COPY_KEY = 24
COPY_UNITS = 30
COPY_READ = 3000
_COPY_LABEL = re.compile(r"^[^\s:：。，,]{1,6}[:：]")


def _copied_below(stripped: list[str]) -> list[bool]:
    """Per unit of a page: whether a long unit near the top has its opening words (whitespace
    and a short label removed) again in the units below it."""
    out = [False] * len(stripped)
    heads = [k for k, s in enumerate(stripped[:COPY_UNITS]) if len(s) >= COPY_CHARS]
    if not heads:
        return out
    # str.split() splits at exactly the characters r"\s" matches (str.isspace), and is faster.
    squeezed = ["".join(s[:COPY_READ].split()) for s in stripped[: COPY_UNITS + 20]]
    joined, starts = "".join(squeezed), [0, *accumulate(map(len, squeezed))]
    for k in heads:
        key = _COPY_LABEL.sub("", squeezed[k])[:COPY_KEY]
        below = joined[starts[k + 1] : starts[k + 1] + COPY_READ + len(squeezed[k])]
        out[k] = len(key) == COPY_KEY and key in below
    return out


def _segments(pages: _Pages) -> np.ndarray:
    out = np.zeros((len(pages.units), len(SEGMENT_NAMES)))
    line, _, _, kind, part, parts = pages.columns.T
    cut = parts > 1
    out[:, 0] = cut
    out[:, 1] = cut & (part == 0)
    out[:, 2] = cut & (part > 0) & (part < parts - 1)
    out[:, 3] = cut & (part > 0) & (part == parts - 1)
    rows = np.flatnonzero(cut)
    if len(rows):
        out[rows, 4] = [math.log1p(len(pages.documents[d][i].strip())) / 10
                        for d, i in zip(pages.page[rows].tolist(), line[rows].tolist())]
    rows = np.flatnonzero(kind)
    out[rows, 4 + kind[rows]] = 1.0
    return out


def _page(pages: _Pages, stripped: list[str], lengths: np.ndarray, repeats: np.ndarray | None,
          text: np.ndarray) -> np.ndarray:
    rep = np.zeros(len(stripped)) if repeats is None else np.asarray(repeats, dtype=float)
    elsewhere = [flag for a, b in pages.slices() for flag in _elsewhere(stripped[a:b])]
    like = [_like_titles(stripped[a:b]) for a, b in pages.slices()]
    return np.column_stack([
        _after(text[:, 1], pages), _after(text[:, 2], pages), elsewhere,
        rep > 0, np.log1p(rep) / 4, (rep > 0) & (lengths >= 10), text[:, 3],
        *_before_salutation(pages, text[:, 4], lengths),
        [flag for below, _ in like for flag in below], [flag for _, above in like for flag in above],
        text[:, 5], _before_text(pages, text[:, 5], text[:, 4], lengths),
        [flag for a, b in pages.slices() for flag in _copied_below(stripped[a:b])],
    ]).astype(float)


def _before_text(pages: _Pages, flags: np.ndarray, salutation: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flagged units whose next unit on the page is a salutation or a paragraph."""
    following = np.zeros(len(flags), dtype=bool)
    following[:-1] = (salutation[1:] > 0) | (lengths[1:] >= LEAD_CHARS)
    following &= pages.order < pages.sizes[pages.page] - 1  # the next unit is on the same page
    return (flags > 0) & following


def _before_salutation(pages: _Pages, salutation: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Units above the salutation that opens the page's document, and those of them that are
    paragraphs (a lead the site put above the document reads like the document)."""
    size = pages.sizes[pages.page]
    first = np.minimum.reduceat(np.where(salutation > 0, pages.order, size), pages.starts)[pages.page]
    before = (pages.order < first) & (first <= size * SALUTATION_WITHIN)
    return before, before & (lengths >= LEAD_CHARS)


def _unit_text(stripped: list[str]) -> np.ndarray:
    """Per unit (text stripped), for a whole batch: traditional share, appendix marker, list
    heading, editorial note, salutation, part heading. The units' windows are simplified in one call, and each
    pattern runs once over the joined simplified texts."""
    n = len(stripped)
    out = np.zeros((n, 6))
    cap = EDITOR_HEAD + EDITOR_TAIL
    windows = [s if len(s) <= cap else s[:EDITOR_HEAD] + " " + s[-EDITOR_TAIL:] for s in stripped]
    joined, starts = _joined(windows)
    simple = to_simplified(joined)
    simple_windows = simple.split("\n")
    if len(simple_windows) != n:  # a conversion across a newline: not seen, but then unit by unit
        simple_windows = [to_simplified(w) for w in windows]
        simple, starts = _joined(simple_windows)
    if len(simple) == len(joined):
        # The script is read from the head of the window: the characters simplification changes.
        a = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        b = np.frombuffer(simple.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        sizes = np.array([len(w) + 1 for w in windows])
        owner = np.repeat(np.arange(n), sizes)[: len(a)]
        head = (np.arange(len(a)) - starts[owner]) < FLAG_HEAD
        changed = np.bincount(owner[(a != b) & head], minlength=n)
        out[:, 0] = np.minimum(changed / np.maximum(np.minimum(sizes - 1, FLAG_HEAD), 1) * 4, 1.0)
    else:  # a conversion changed lengths somewhere: compare unit by unit
        out[:, 0] = [_changed_share(w[:FLAG_HEAD], sw[:FLAG_HEAD]) for w, sw in zip(windows, simple_windows)]
    short = strip_pinyin("\n".join(sw[:MARKER_CHARS] if len(s) <= MARKER_CHARS * 2 else ""
                                   for s, sw in zip(stripped, simple_windows)))
    heads = short.split("\n")
    if len(heads) == n:
        marker_starts = _joined(heads)[1]
        out[:, 1] = _per_text(_APPENDIX_MARKER_M, short, marker_starts) > 0
        out[:, 2] = _per_text(_LIST_MARKER_HEADING_M, short, marker_starts) > 0
    out[:, 3] = _per_text(_EDITOR_NOTE_M, simple, starts) > 0
    rows = [k for k, s in enumerate(stripped) if len(s) <= SALUTATION_CHARS and s[-1:] in (":", "：")]
    if rows:
        out[rows, 4] = [SALUTATION.search(simple_windows[k]) is not None for k in rows]
    rows = [k for k, s in enumerate(stripped) if len(s) <= PART_CHARS and "篇" in s]
    if rows:
        out[rows, 5] = [PART_HEADING.search(simple_windows[k]) is not None for k in rows]
    return out


def _position(pages: _Pages, stripped: list[str], lengths: np.ndarray) -> np.ndarray:
    n, size = len(stripped), pages.sizes[pages.page]
    order = pages.order.astype(float)
    # Lengths are whole numbers: their running sums are exact, so one running sum serves every page.
    running = np.cumsum(lengths) - lengths
    before = (running - running[pages.starts][pages.page]) / np.maximum(np.add.reduceat(lengths, pages.starts), 1.0)[pages.page]
    longest = np.maximum(np.maximum.reduceat(lengths, pages.starts), 1.0)[pages.page]
    seen: dict[tuple[int, str], int] = {}
    keys = list(zip(pages.page.tolist(), stripped))
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
    # Lines with text are exactly the lines with units: the line before a unit is blank unless
    # the unit before it in the page stands on that line.
    line, part, parts = pages.columns[:, 0], pages.columns[:, 4], pages.columns[:, 5]
    follows = (pages.page[1:] == pages.page[:-1]) & (line[1:] == line[:-1] + 1)
    blank_before = (part == 0) & (line > 0) & ~np.concatenate([[False], follows])
    n_lines = np.array([len(lines) for lines in pages.documents], dtype=np.int64)[pages.page]
    blank_after = (part == parts - 1) & (line + 1 < n_lines) & ~np.concatenate([follows, [False]])
    return np.column_stack([
        order / np.maximum(size - 1, 1), before, order == 0, order == size - 1,
        np.log1p(order) / 6, np.log1p(size - 1 - order) / 6,
        np.array([math.log1p(k) / 6 for k in pages.sizes.tolist()])[pages.page] if n else np.zeros(0),
        lengths / longest, lengths == longest,
        [seen[key] > 1 for key in keys], blank_before, blank_after,
    ]).astype(float)


def _script(pages: _Pages, lengths: np.ndarray, text: np.ndarray) -> np.ndarray:
    """A unit's traditional-character share, its page's (weighted by length) and how much less it has."""
    trad = text[:, 0]
    weighted = np.multiply(trad, lengths)
    # Summed page by page, as the page's own sum would be.
    doc = np.array([float(weighted[a:b].sum() / lengths[a:b].sum()) if lengths[a:b].sum() else 0.0
                    for a, b in pages.slices()])[pages.page]
    return np.column_stack([trad, doc, np.maximum(doc - trad, 0.0)])


def _context(pages: _Pages, stripped: list[str], lengths: np.ndarray, base: np.ndarray, text: np.ndarray,
             repeats: np.ndarray | None, settings: FeatureSettings) -> np.ndarray:
    """Script, position, segment, page and neighbour features of every unit of the batch (its text
    stripped, and that text's length); each page's rows are what they would be for the page alone."""
    n = len(stripped)
    blocks = [base, _script(pages, lengths, text), _position(pages, stripped, lengths), _segments(pages),
              _page(pages, stripped, lengths, repeats, text)]
    picked, size = base[:, NEIGHBOR_INDEX], pages.sizes[pages.page]
    for off in settings.neighbors:
        shifted = np.zeros((n, len(NEIGHBOR_INDEX) + 1))
        ok = (pages.order + off >= 0) & (pages.order + off < size)
        shifted[ok, 0] = 1.0
        shifted[ok, 1:] = picked[np.flatnonzero(ok) + off]
        blocks.append(shifted)
    return np.hstack(blocks)


def _traditional_share(text: str) -> float:
    """Share of a line's first characters that simplification changes: its script."""
    head = text[:FLAG_HEAD]
    return _changed_share(head, to_simplified(head))


def _changed_share(head: str, simple: str) -> float:
    if len(simple) != len(head):
        return 0.0
    return min(sum(a != b for a, b in zip(head, simple)) / max(len(head), 1) * 4, 1.0)


def hashed(texts: list[str], settings: FeatureSettings):
    """Normalized counts of hashed n-grams and words, one row per text (a scipy CSR matrix)."""
    return FeatureRows(*hashed_entries(texts, settings), np.zeros((len(texts), 0)), settings.n_features).tocsr()


# --- documents ------------------------------------------------------------------------------


@dataclass
class DocumentFeatures:
    """Rows for the units of one document, in order: `units[k]` is the segment of row k, of
    `lengths[k]` characters of text (surrounding whitespace excluded)."""

    units: list[Unit]
    dense: np.ndarray
    lengths: np.ndarray


@dataclass
class FeatureRows:
    """A batch's feature matrix without scipy: the hashed block as (row, column, value) entries
    (see `hashed_entries`), or, from a `memo.UnitMemo`, as its scores under one model's weights
    (`lexical`, scored with `scored_with`); then the dense block, scaled. Labeling scores it with
    numpy alone; `tocsr` gives the sparse matrix that training fits on (from entries only)."""

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    dense: np.ndarray
    n_features: int
    lexical: np.ndarray | None = None
    scored_with: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.dense), self.n_features + self.dense.shape[1]

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """`X @ coef.T` (rows: this matrix's rows; columns: coef's rows), in float64.

        Each row is summed entry by entry in the sparse matrix's order (hashed entries, then the
        dense values by column), as scipy's product sums it, so scores do not depend on the path.
        """
        n = len(self.dense)
        if self.lexical is not None:
            if coef is not self.scored_with:
                raise ValueError("these rows hold the hashed block scored by another model")
            out = np.array(self.lexical.T, dtype=float)
        else:
            out = hashed_scores(self.rows, self.columns, self.values, coef, n)
        # Label by label, column by column over contiguous rows of the transposed dense block:
        # the same products and sums, without a temporary array per column.
        columns = np.ascontiguousarray(self.dense.T, dtype=np.float64)  # products in float64 whatever its type
        product = np.empty(n)
        for scores, weights in zip(out, coef[:, self.n_features :].astype(np.float64).tolist()):
            for values, weight in zip(columns, weights):
                scores += np.multiply(values, weight, out=product)
        return out.T.reshape(n, len(coef))

    def tocsr(self):
        from scipy import sparse

        if self.lexical is not None:
            raise ValueError("these rows hold the hashed block's scores, not its entries")

        n = len(self.dense)
        dense_rows, dense_cols = np.nonzero(self.dense)
        rows = np.concatenate([self.rows, dense_rows])
        order = np.argsort(rows, kind="stable")  # a row's hashed entries, then its dense ones
        cols = np.concatenate([self.columns, dense_cols + self.n_features])[order]
        values = np.concatenate([self.values, self.dense[dense_rows, dense_cols]])[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        return sparse.csr_matrix((values, cols, indptr), shape=self.shape)


def hashed_scores(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, coef: np.ndarray, n: int) -> np.ndarray:
    """The hashed block's product with `coef` (one row per label, `n` columns): each row's entries
    summed one after another in their order, as scipy's sparse product sums them."""
    return np.array([np.bincount(rows, weights=values * np.take(row, columns), minlength=n) for row in coef],
                    dtype=float).reshape(len(coef), n)


def featurize(documents: list[list[str]], settings: FeatureSettings, repeats=None):
    """`feature_rows` as a scipy CSR matrix (for training), and each document's rows."""
    X, docs = feature_rows(documents, settings, repeats)
    return X.tocsr(), docs


def feature_rows(documents: list[list[str]], settings: FeatureSettings, repeats=None,
                 doc_units: list[list[Unit]] | None = None, memo=None) -> tuple[FeatureRows, list[DocumentFeatures]]:
    """One matrix for a batch of documents (rows in document order), and each document's rows.

    Only segments of lines with text get rows; blank lines are decided later from their
    neighbours. `repeats` (a `repeats.RepeatCounter`) adds the batch's documents to its counts
    and gives each unit the number of other documents holding it. `doc_units`: each document's
    `segment.units`, when they were cut already. `memo` (a `memo.UnitMemo`): text-only rows
    kept across batches; the hashed block then comes as its scores under the memo's model.
    """
    if doc_units is None:
        doc_units = [units(lines) for lines in documents]
    doc_texts = [[lines[u.line][u.start : u.end] for u in us] for lines, us in zip(documents, doc_units)]
    texts = [t for ts in doc_texts for t in ts]
    width = len(dense_names(settings))
    if not texts:
        empty = [DocumentFeatures(us, np.zeros((0, width)), np.zeros(0)) for us in doc_units]
        nothing = np.zeros(0, dtype=np.int64)
        return FeatureRows(nothing, nothing, np.zeros(0), np.zeros((0, width)), settings.n_features), empty
    # Units whose text recurs in the batch (a site's navigation and footer on each of its pages)
    # get their text-only features once: shape, flags and hashed n-grams and words.
    distinct, inverse = _distinct(texts)
    distinct_stripped = [t.strip() for t in distinct]
    stripped = [distinct_stripped[k] for k in inverse.tolist()]
    counts = repeats.observe(doc_texts) if repeats is not None else None
    counts = np.concatenate(counts) if counts is not None else None
    if memo is not None:
        # With repeat counts, the memo keeps only texts that another document holds too.
        recur = None if counts is None else np.bincount(inverse, weights=counts > 0, minlength=len(distinct)) > 0
        base, text, lexical = (block[inverse] for block in memo.rows(distinct, recur))
    else:
        base, text = shallow(distinct)[inverse], _unit_text(distinct_stripped)[inverse]
    lengths = np.fromiter(map(len, distinct_stripped), dtype=float, count=len(distinct))[inverse]
    dense = _context(_Pages.of(documents, doc_units), stripped, lengths, base, text, counts, settings)
    docs, start = [], 0
    for us in doc_units:
        docs.append(DocumentFeatures(us, dense[start : start + len(us)], lengths[start : start + len(us)]))
        start += len(us)
    # Scaled into column-major order: the product with the weights reads the block column by column.
    dense = np.multiply(dense, _scales(settings), out=np.empty((dense.shape[1], len(dense))).T)
    if memo is not None:
        nothing = np.zeros(0, dtype=np.int64)
        return FeatureRows(nothing, nothing, np.zeros(0), dense, settings.n_features, lexical, memo.coef), docs
    entries = hashed_entries(distinct, settings)
    if len(distinct) < len(texts):
        entries = _expand(*entries, inverse, len(distinct))
    return FeatureRows(*entries, dense, settings.n_features), docs


def _expand(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, inverse: np.ndarray,
            n_distinct: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of the distinct texts' rows (sorted by row) given to every row that holds the text."""
    expanded, take = ragged_take(np.bincount(rows, minlength=n_distinct), inverse)
    return expanded, cols[take], values[take]
