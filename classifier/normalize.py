"""Normalizing a copy of the text for features: artifacts map to what they mean.

Traditional characters become simplified, full-width forms become half-width (NFKC), and pinyin
left after characters by converters (執(zhí)行) is dropped. Output text is never normalized: only
the copy that features read.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# Pinyin in brackets right after a CJK character: 1-6 letters with a tone mark, or a toneless
# syllable of 2-6 lowercase letters (neutral tone: 們(men)).
PINYIN_AFTER_CJK = re.compile(
    rf"[(（](?<=[\u3400-\u9fff][(（])(?:[a-z{TONE_VOWELS}]{{0,5}}[{TONE_VOWELS}][a-z{TONE_VOWELS}]{{0,5}}|[a-z]{{2,6}})[)）]"
)
PAGE_CHUNK_PREFIX = re.compile(r"^\s*\d{1,3}、(?=\S)")
# Lone surrogates: a Python string can hold them (JSON input, text decoded with escape codecs),
# UTF-8 cannot. The compiled converters and segmenters take UTF-8 only.
SURROGATES = re.compile("([\ud800-\udfff]+)")


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    try:
        return _converter().convert(text)
    except UnicodeEncodeError:  # lone surrogates stay as they are; the text around them is converted
        parts = SURROGATES.split(text)
        return "".join(part if k % 2 else _converter().convert(part) for k, part in enumerate(parts))


def strip_pinyin(text: str) -> str:
    """`執(zhí)行` -> `執行`: drop pinyin in brackets right after CJK characters."""
    if "(" not in text and "（" not in text:
        return text
    return PINYIN_AFTER_CJK.sub("", text)


# Blocks where NFKC maps each character on its own (no character composes with the one before
# it, once the combining marks among them are set apart): Latin, punctuation, symbols, CJK,
# full-width forms. A line holding any other character is normalized by `unicodedata`.
_PER_CHAR_BLOCKS = [
    (0x0000, 0x024F), (0x0370, 0x04FF), (0x2000, 0x27BF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3100, 0x312F),
    (0x3190, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0xFFFC, 0xFFFD),
]


def _hangul(char: str) -> bool:
    """Conjoining jamo and syllables: NFKC composes them with the characters around them."""
    return 0x1100 <= ord(char) <= 0x11FF or 0xA960 <= ord(char) <= 0xA97F or 0xAC00 <= ord(char) <= 0xD7FF


# CJK unified ideographs: NFKC leaves each as it is.
_IDEOGRAPHS = (0x3400, 0x9FFF)


@lru_cache(maxsize=1)
def _nfkc_table() -> tuple[np.ndarray, np.ndarray, re.Pattern | None, dict[str, str]]:
    """Per BMP code point: its NFKC form when that is one character (else itself), and whether
    a line holding it goes through `unicodedata` instead; the characters whose form is longer
    (a pattern that finds them, and their forms)."""
    risky = np.ones(0x10000, dtype=bool)
    single = np.arange(0x10000, dtype=np.uint32)
    longer: dict[str, str] = {}
    for lo, hi in _PER_CHAR_BLOCKS:
        risky[lo : hi + 1] = False
    for c in np.flatnonzero(~risky).tolist():
        if _IDEOGRAPHS[0] <= c <= _IDEOGRAPHS[1]:
            continue
        char = chr(c)
        form = unicodedata.normalize("NFKC", char)
        if unicodedata.combining(char) or any(unicodedata.combining(f) or _hangul(f) for f in form):
            risky[c] = True  # a mark, or Hangul jamo and syllables, which compose with their neighbours
        elif len(form) == 1:
            single[c] = ord(form)
        elif form != char:
            longer[char] = form
    found = re.compile("[" + "".join(map(re.escape, longer)) + "]") if longer else None
    return single, risky, found, longer


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`: by table, but the lines holding a character
    outside the common blocks (or a combining mark), which `unicodedata` normalizes."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    single, risky, found, longer = _nfkc_table()
    bmp = np.minimum(codes, 0xFFFF)
    out = single[bmp].tobytes().decode("utf-32-le", "surrogatepass")
    if found is not None:
        out = found.sub(lambda m: longer[m.group()], out)
    odd = np.flatnonzero(risky[bmp] | (codes > 0xFFFF))
    if not len(odd):
        return out
    # The lines holding such characters, found by the newlines before them, are normalized one by one.
    newlines = np.flatnonzero(codes == 10)
    lines, source = out.split("\n"), text.split("\n")
    for k in np.unique(np.searchsorted(newlines, odd)).tolist():
        lines[k] = unicodedata.normalize("NFKC", source[k])
    return "\n".join(lines)


def normalize(text: str) -> str:
    """The feature view of `text` (may hold many lines joined by newlines)."""
    text = strip_pinyin(nfkc(text))
    return to_simplified(text).lower()
