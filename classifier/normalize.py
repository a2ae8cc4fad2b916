"""Normalizing a copy of the text for features: artifacts map to what they mean.

Traditional characters become simplified, full-width forms become half-width (NFKC), and pinyin
left after characters by converters (執(zhí)行) is dropped. Output text is never normalized: only
the copy that features read.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def normalize(text: str) -> str:
    """The feature view of `text` (may hold many lines joined by newlines)."""
    text = strip_pinyin(unicodedata.normalize("NFKC", text))
    return to_simplified(text).lower()
