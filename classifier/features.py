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
import zlib
from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse

from .normalize import normalize, strip_pinyin, to_simplified
from .segment import KINDS, Unit, units

FEATURE_VERSION = 3


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

URL = re.compile(r"https?://|www\.|\.(?:com|cn|net|org|html?|shtml|aspx?)\b", re.IGNORECASE)
EMAIL = re.compile(r"[\w.-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE)
ICP = re.compile(r"ICP|备案|備案|公网安备|公網安備|版权所有|版權所有|copyright|©", re.IGNORECASE)
DATE = re.compile(r"\d{2,4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|\d{1,2}月\d{1,2}日|\d{4}年")
TIME = re.compile(r"\d{1,2}:\d{2}")
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


def _class_counts(texts: list[str]) -> np.ndarray:
    """Per text: counts of CJK, Latin, digit, space, punctuation, sentence-end and comma characters.

    One vectorized pass over all the texts' code points.
    """
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    fold = codes.copy()
    full = (fold >= 0xFF01) & (fold <= 0xFF5E)  # full-width ASCII counts as its ASCII letter
    fold[full] -= 0xFEE0
    lower = fold | 0x20
    cjk = ((fold >= 0x3400) & (fold <= 0x9FFF)) | ((fold >= 0xF900) & (fold <= 0xFAFF))
    latin = (lower >= 0x61) & (lower <= 0x7A)
    digit = (fold >= 0x30) & (fold <= 0x39)
    space = np.isin(fold, SPACE_CODES)
    punct = ~(cjk | latin | digit | space)
    ends = np.isin(fold, SENTENCE_END_CODES)
    commas = np.isin(fold, COMMA_CODES)
    bounds = np.concatenate([[0], np.cumsum([len(t) for t in texts])])
    out = np.empty((len(texts), 7), dtype=np.int64)
    for j, mask in enumerate((cjk, latin, digit, space, punct, ends, commas)):
        running = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        out[:, j] = running[bounds[1:]] - running[bounds[:-1]]
    return out


SPACE_CODES = np.array([ord(c) for c in " \t\u3000\u00a0\u2002\u2003\u200b\ufeff"], dtype=np.uint32)
SENTENCE_END_CODES = np.array([ord(c) for c in "。!?;…"], dtype=np.uint32)
COMMA_CODES = np.array([ord(c) for c in ",、，"], dtype=np.uint32)


def _flags(line: str, text: str) -> list[float]:
    if len(text) > FLAG_HEAD + FLAG_TAIL:
        text = text[:FLAG_HEAD] + " " + text[-FLAG_TAIL:]
    separators = [text.count(s) for s in SEPARATORS]
    ends = text[-1:]
    return [
        ends in "。！？!?…”\"", ends in ":：", ends in "，,、；;", ends in ")）]】>》",
        bool(URL.search(text)), bool(EMAIL.search(text)), bool(ICP.search(text)),
        bool(DATE.search(text)), bool(TIME.search(text)), bool(TRAILING_DATE.search(text)),
        bool(LIST_MARKER.match(text)), bool(BULLET.match(text)), bool(PAGE_CHUNK.match(text)),
        bool(KEY_VALUE.match(text)), bool(INDENT.match(line)), bool(NUMBERISH.match(text)),
        math.log1p(sum(text.count(b) for b in BRACKET_CHARS)) / 4,
        min(sum(separators) / max(len(text), 1) * 5, 1.0), math.log1p(max(separators)) / 4,
        math.log1p(len(SEPARATOR_RUN.findall(text))) / 4,
        math.log1p(len(SPAM_TERMS.findall(text.lower()))) / 3,
        max(separators) >= 3 and "。" not in text,
    ]


BRACKET_CHARS = "【】[]《》<>〈〉"
# Fragments of injected SEO spam (porn, gambling, lottery, fake invoices). Counted, not matched
# alone: a line needs several, joined by one separator, to look like a spam header.
SPAM_TERMS = re.compile(
    "国产|精品|久久|一区|二区|三区|无码|有码|中文字幕|在线观看|在线播放|免费视频|免费观看|高清|人妻|熟女|熟妇|日韩|欧美|亚洲|"
    "蜜桃|午夜|成人|天堂|超碰|婷婷|激情|毛片|一级|黄色|av|porn|偷拍|自拍|乱码|丝袜|少妇|美女|色综合|"
    "彩票|时时彩|赛车|澳门|赌场|娱乐城|娱乐场|真人|网投|棋牌|开奖|注册送|投注|百家乐|博彩|老虎机|葡京|威尼斯人|永利|金沙|"
    "代开|发票|开户"
)


def shallow(lines: list[str]) -> np.ndarray:
    """Shape of each line, each value roughly in [0, 1]; one row per line.

    Pinyin left after characters by converters is removed first: it is not Latin text.
    """
    lines = [strip_pinyin(line) for line in lines]
    texts = [line.strip() for line in lines]
    n = np.array([len(t) for t in texts], dtype=float)
    counts = _class_counts(texts)
    size = np.maximum(n, 1.0)[:, None]
    shares = counts[:, :5] / size
    lengths = np.column_stack([
        np.log1p(n) / 10, n <= 2, n <= 6, n <= 15, n <= 40, n > 200, n > 2000,
    ])
    sentences = np.column_stack([np.log1p(counts[:, 5]) / 5, np.minimum(counts[:, 6] / size[:, 0] * 10, 1.0)])
    flags = np.array([_flags(line, text) for line, text in zip(lines, texts)], dtype=float)
    return np.hstack([lengths, shares, sentences, flags.reshape(len(lines), -1)])


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
              "repeat_docs_any", "repeat_docs_log", "repeat_docs_long", "editor_note"]
# A site's editorial note about the document ("下面是小编为大家整理的……仅供参考"), anywhere in the unit.
EDITOR_NOTE = re.compile(
    r"小编|仅供参考|仅供大家参考|欢迎阅读|欢迎借鉴|希望对(?:你|您|大家)有所帮助|一起来看看吧|一起来看看|让我们一起|"
    r"(?:以下|下面)(?:是|就是|为)[^。！？!?]{0,30}(?:整理|收集|精选|搜集|带来|分享)"
)
EDITOR_CHARS = 3000
APPENDIX_MARKER = re.compile(
    r"^\W{0,3}(?:扩展阅读|延伸阅读|拓展阅读|拓展资料|扩展资料|推荐阅读|相关阅读|相关范文|更多范文|精选范文|范文推荐|更多阅读|相关延伸)"
)
LIST_MARKER_HEADING = re.compile(
    r"^\W{0,3}(?:相关文章|相关推荐|相关文档|相关资料|相关栏目|猜你喜欢|热门文章|热门推荐|热门范文|最新文章|最新更新|最新范文|"
    r"推荐文章|精彩推荐|往期推荐|大家都在看|看了本文的还看了|你可能感兴趣|为你推荐|本类热门|相关热词|热门搜索|发表评论|网友评论)"
)
MARKER_CHARS = 30
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


def _after(flags: list[bool]) -> np.ndarray:
    """1 for the units after the first flagged one."""
    seen = np.cumsum(np.asarray(flags, dtype=int))
    return (np.concatenate([[0], seen[:-1]]) > 0).astype(float) if len(flags) else np.zeros(0)


def _elsewhere(stripped: list[str]) -> list[bool]:
    """Whether a short unit's text also stands inside another unit of the page (a title in a breadcrumb)."""
    lo, hi = ELSEWHERE_CHARS
    joined = "\n".join(s[:200] for s in stripped[:ELSEWHERE_UNITS])
    return [lo <= len(s) <= hi and joined.count(s) > 1 for s in stripped]


def _segments(lines: list[str], us: list[Unit]) -> np.ndarray:
    out = np.zeros((len(us), len(SEGMENT_NAMES)))
    for r, u in enumerate(us):
        if u.parts > 1:
            out[r, 0] = 1.0
            out[r, 1 + (0 if u.part == 0 else 2 if u.part == u.parts - 1 else 1)] = 1.0
            out[r, 4] = math.log1p(len(lines[u.line].strip())) / 10
        if u.kind:
            out[r, 4 + u.kind] = 1.0
    return out


def _page(stripped: list[str], lengths: np.ndarray, repeats: np.ndarray | None) -> np.ndarray:
    short = [to_simplified(strip_pinyin(s[:MARKER_CHARS])) if len(s) <= MARKER_CHARS * 2 else "" for s in stripped]
    rep = np.zeros(len(stripped)) if repeats is None else np.asarray(repeats, dtype=float)
    return np.column_stack([
        _after([bool(APPENDIX_MARKER.match(s)) for s in short]),
        _after([bool(LIST_MARKER_HEADING.match(s)) for s in short]),
        _elsewhere(stripped),
        rep > 0, np.log1p(rep) / 4, (rep > 0) & (lengths >= 10),
        [bool(EDITOR_NOTE.search(to_simplified(s[:EDITOR_CHARS]))) for s in stripped],
    ]).astype(float)


def _context(lines: list[str], us: list[Unit], texts: list[str], base: np.ndarray, repeats: np.ndarray | None,
             settings: FeatureSettings) -> np.ndarray:
    n = len(us)
    stripped = [t.strip() for t in texts]
    lengths = np.array([len(s) for s in stripped], dtype=float)
    before = np.concatenate([[0.0], np.cumsum(lengths)[:-1]]) / max(lengths.sum(), 1.0)
    order = np.arange(n, dtype=float)
    counts: dict[str, int] = {}
    for s in stripped:
        counts[s] = counts.get(s, 0) + 1
    longest = max(lengths.max(), 1.0)
    pos = np.column_stack([
        order / max(n - 1, 1), before, order == 0, order == n - 1,
        np.log1p(order) / 6, np.log1p(n - 1 - order) / 6, np.full(n, math.log1p(n) / 6),
        lengths / longest, lengths == longest,
        [counts[s] > 1 for s in stripped],
        [u.part == 0 and u.line > 0 and not lines[u.line - 1].strip() for u in us],
        [u.part == u.parts - 1 and u.line + 1 < len(lines) and not lines[u.line + 1].strip() for u in us],
    ]).astype(float)
    trad = np.array([_traditional_share(s) for s in stripped])
    doc_trad = float(np.average(trad, weights=lengths)) if lengths.sum() else 0.0
    script = np.column_stack([trad, np.full(n, doc_trad), np.maximum(doc_trad - trad, 0.0)])
    blocks = [base, script, pos, _segments(lines, us), _page(stripped, lengths, repeats)]
    picked = base[:, NEIGHBOR_INDEX]
    for off in settings.neighbors:
        shifted = np.zeros((n, len(NEIGHBOR_INDEX) + 1))
        src = np.arange(n) + off
        ok = (src >= 0) & (src < n)
        shifted[ok, 0] = 1.0
        shifted[ok, 1:] = picked[src[ok]]
        blocks.append(shifted)
    return np.hstack(blocks)


def _traditional_share(text: str) -> float:
    """Share of a line's first characters that simplification changes: its script."""
    head = text[:FLAG_HEAD]
    simple = to_simplified(head)
    if len(simple) != len(head):
        return 0.0
    return min(sum(a != b for a, b in zip(head, simple)) / max(len(head), 1) * 4, 1.0)


# --- hashed lexical features ----------------------------------------------------------------

START, END, GAP = "\x02", "\x03", "\x04"
_MIX = np.uint64(0x9E3779B97F4A7C15)


CONTROLS = {c: " " for c in range(32)}


def window(line: str, settings: FeatureSettings) -> str:
    """Head and tail of a line: the only part of it that lexical features read."""
    text = line.strip().translate(CONTROLS)
    if len(text) <= settings.head_chars + settings.tail_chars:
        return START + text + END
    return START + text[: settings.head_chars] + GAP + text[-settings.tail_chars :] + END


def _char_ngrams(windows: list[str], settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every character n-gram of every window, hashed with numpy in one pass."""
    codes = np.frombuffer("".join(windows).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(len(windows)), [len(w) for w in windows])
    rows, cols = [], []
    for n in range(1, settings.ngram_max + 1):
        m = len(codes) - n + 1
        if m <= 0:
            break
        h = np.full(m, n, dtype=np.uint64)
        for k in range(n):
            h = (h ^ codes[k : k + m]) * _MIX
        ok = row_of[: m] == row_of[n - 1 :]  # the n-gram lies within one window
        if n == 1:
            ok &= codes[:m] > 4  # the window markers alone say nothing
        h ^= h >> np.uint64(31)
        rows.append(row_of[:m][ok])
        cols.append((h[ok] % np.uint64(settings.n_features)).astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


_word_cache: dict[str, int] = {}


def _word_column(word: str, n_features: int) -> int:
    code = _word_cache.get(word)
    if code is None:
        code = zlib.crc32(("w\x00" + word).encode("utf-8", "surrogatepass"))
        if len(_word_cache) < 500_000:
            _word_cache[word] = code
    return code % n_features


def tokenize(text: str) -> list[str]:
    from .words import cut

    return cut(text)


def _words(heads: list[str], settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = [], []
    for r, head in enumerate(heads):
        for word in tokenize(head):
            if len(word) > 1 or "\u3400" <= word <= "\u9fff":
                rows.append(r)
                cols.append(_word_column(word, settings.n_features))
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def hashed(texts: list[str], settings: FeatureSettings) -> sparse.csr_matrix:
    """Normalized counts of hashed n-grams and words, one row per text."""
    norm = normalize("\n".join(window(t, settings) for t in texts)).split("\n")
    r1, c1 = _char_ngrams(norm, settings)
    heads = [w[1 : settings.word_chars + 1].split(GAP)[0].rstrip(END) for w in norm]
    r2, c2 = _words(heads, settings)
    rows, cols = np.concatenate([r1, r2]), np.concatenate([c1, c2])
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), settings.n_features))
    m.sum_duplicates()
    lengths = np.asarray(m.multiply(m).sum(axis=1)).ravel()
    if settings.norm_cap:
        lengths = np.minimum(lengths, settings.norm_cap)
    lengths = np.sqrt(lengths)
    lengths[lengths == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / lengths) @ m)


# --- documents ------------------------------------------------------------------------------


@dataclass
class DocumentFeatures:
    """Rows for the units of one document, in order: `units[k]` is the segment of row k."""

    units: list[Unit]
    dense: np.ndarray


def featurize(documents: list[list[str]], settings: FeatureSettings,
              repeats=None) -> tuple[sparse.csr_matrix, list[DocumentFeatures]]:
    """One matrix for a batch of documents (rows in document order), and each document's rows.

    Only segments of lines with text get rows; blank lines are decided later from their
    neighbours. `repeats` (a `repeats.RepeatCounter`) adds the batch's documents to its counts
    and gives each unit the number of other documents holding it.
    """
    doc_units = [units(lines) for lines in documents]
    doc_texts = [[lines[u.line][u.start : u.end] for u in us] for lines, us in zip(documents, doc_units)]
    texts = [t for ts in doc_texts for t in ts]
    width = len(dense_names(settings))
    if not texts:
        empty = [DocumentFeatures(us, np.zeros((0, width))) for us in doc_units]
        return sparse.csr_matrix((0, settings.n_features + width)), empty
    base = shallow(texts)
    counts = repeats.observe(doc_texts) if repeats is not None else [None] * len(documents)
    docs, start = [], 0
    for lines, us, ts, rep in zip(documents, doc_units, doc_texts, counts):
        end = start + len(us)
        dense = _context(lines, us, ts, base[start:end], rep, settings) if us else np.zeros((0, width))
        docs.append(DocumentFeatures(us, dense))
        start = end
    dense = sparse.csr_matrix(np.vstack([d.dense for d in docs]) * _scales(settings))
    return sparse.hstack([hashed(texts, settings), dense], format="csr"), docs
