"""Repeated-line evidence: lines that recur across the documents filtered together are chrome.

A site's navigation, meta labels and footer recur on every page it serves; a document's
sentences do not. When many documents are filtered together (a directory, a JSONL stream),
`RepeatCounter` counts, for every segment text, the documents holding it, in a count-min
sketch of fixed size (memory does not grow with the input). Digits are folded so that
"浏览：1234" and "浏览：98" count as one line. For a single page all counts are zero and the
model decides from the page alone.
"""
from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import NamedTuple

import numpy as np

DIGITS = re.compile(r"\d+")
SPACES = re.compile(r"\s+")
_SPACES_INLINE = re.compile(r"[^\S\n]+")
# Hashing seeds of the sketch's rows; width x rows x 4 bytes of memory (16 MB by default).
SEEDS = (0, 0x9E3779B9)
WIDTH = 1 << 21
MIN_CHARS = 2


def key(text: str) -> bytes:
    return DIGITS.sub("0", SPACES.sub("", text)).encode("utf-8", "surrogatepass")


class Keys(NamedTuple):
    """A group of documents' texts as sketch slots: what `RepeatCounter.count` needs of them."""

    slots: np.ndarray  # (texts, rows) slot of each text in each row of the sketch
    short: np.ndarray  # texts too short to count
    sizes: np.ndarray  # texts per document


def sketch_keys(documents: list[list[str]], width: int = WIDTH) -> Keys:
    """The slots of every text of every document: pure, so worker processes compute them."""
    texts = [t for doc in documents for t in doc]
    if not texts:
        slots = np.zeros((0, len(SEEDS)), dtype=np.int64)
    else:
        if any("\n" in t for t in texts):
            keys = [key(t) for t in texts]
        else:  # one substitution pass and one encoding of the joined texts: the same keys as `key`, faster
            keys = _squeezed("\n".join(texts)).encode("utf-8", "surrogatepass").split(b"\n")
        slots = np.column_stack([np.fromiter((zlib.crc32(k, seed) for k in keys), dtype=np.int64, count=len(keys))
                                 for seed in SEEDS]) % width
    short = np.array([len(t.strip()) < MIN_CHARS for t in texts], dtype=bool)
    return Keys(slots, short, np.array([len(doc) for doc in documents], dtype=np.int64))


@lru_cache(maxsize=1)
def _char_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: whether `\\d` matches it (a decimal digit), and whether `\\s` does
    (whitespace) but for the newline."""
    chars = [chr(c) for c in range(0x10000)]
    spaces = np.array([c.isspace() for c in chars])
    spaces[10] = False
    return np.array([c.isdecimal() for c in chars]), spaces


def _squeezed(joined: str) -> str:
    """`DIGITS.sub("0", _SPACES_INLINE.sub("", joined))`, by table lookups on the code points."""
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if not len(codes) or codes.max() > 0xFFFF:  # astral digits and spaces exist: the patterns decide
        return DIGITS.sub("0", _SPACES_INLINE.sub("", joined))
    decimal, spaces = _char_tables()
    codes = codes[~spaces[codes]]
    digit = decimal[codes]
    keep = ~digit
    keep[:1] = True
    keep[1:] |= ~digit[:-1]  # a digit is kept (as "0") when no digit stands before it
    out = codes[keep]
    out[digit[keep]] = ord("0")
    return out.tobytes().decode("utf-32-le", "surrogatepass")


class RepeatCounter:
    """Documents seen so far holding each text (an over-estimate only when hashes collide)."""

    def __init__(self, width: int = WIDTH):
        self.width = width
        self.table = np.zeros((len(SEEDS), width), dtype=np.int32)
        self.documents = 0

    def observe(self, documents: list[list[str]]) -> list[np.ndarray]:
        """Add each document's texts (once per document), then count for each text the OTHER documents holding it."""
        return self.count(sketch_keys(documents, self.width))

    def count(self, keys: Keys) -> list[np.ndarray]:
        """`observe`, from the documents' `sketch_keys`."""
        slots, short, sizes = keys
        # Each (document, slots) pair once: a text repeated within a document counts once.
        doc = np.repeat(np.arange(len(sizes)), sizes)[~short]
        pairs = np.column_stack([doc, slots[~short]])
        if len(pairs):
            pairs = pairs[np.lexsort(pairs.T[::-1])]
            pairs = pairs[np.concatenate([[True], (pairs[1:] != pairs[:-1]).any(axis=1)])]
        for row in range(len(SEEDS)):  # np.add.at(self.table[row], pairs[:, row + 1], 1), a few times faster
            slot, added = np.unique(pairs[:, row + 1], return_counts=True)
            self.table[row, slot] += added.astype(self.table.dtype)
        self.documents += len(sizes)
        counts = np.min([self.table[row][slots[:, row]] for row in range(len(SEEDS))], axis=0) - 1
        counts[short] = 0
        counts = np.maximum(counts, 0).astype(float)
        return np.split(counts, np.cumsum(sizes)[:-1]) if len(sizes) else []
