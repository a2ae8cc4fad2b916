"""Hashed lexical features of a unit: character 1-3-grams and jieba words of its head and tail.

Only a bounded window of each unit is read (its head and tail), so a 17,000-character line
costs no more than a short one. N-grams are hashed with numpy in one pass over a batch; words
are cut in one segmenter call over the batch's distinct heads and hashed as
`zlib.crc32("w\0" + word)`, computed with numpy. The columns are part of a model's feature
version: changing a hash means retraining.
"""
from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING

import numpy as np

from .normalize import normalize

if TYPE_CHECKING:
    from .features import FeatureSettings


START, END, GAP = "\x02", "\x03", "\x04"
_MIX = np.uint64(0x9E3779B97F4A7C15)


def window(line: str, settings: FeatureSettings) -> str:
    """Head and tail of a line: the only part of it that lexical features read."""
    return _windows([line.replace("\n", " ")], settings)[0]


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def _windows(texts: list[str], settings: FeatureSettings) -> list[str]:
    """`window` of each text (texts hold no newline), control characters replaced in one pass."""
    cap, head, tail = settings.head_chars + settings.tail_chars, settings.head_chars, settings.tail_chars
    joined = _CONTROL.sub(" ", "\n".join(t.strip() for t in texts))
    return [START + t + END if len(t) <= cap else START + t[:head] + GAP + t[-tail:] + END
            for t in joined.split("\n")]


def _ngram_hashes(windows: list[str], settings: FeatureSettings):
    """For each n in 1..ngram_max: the hash of the n-gram at each position of the joined windows,
    whether it counts (it lies within one window and, for n = 1, is not a window marker), and
    the window of each position."""
    codes = np.frombuffer("".join(windows).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(len(windows)), [len(w) for w in windows])
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
        yield h, ok, row_of[:m]


def _char_ngrams(windows: list[str], settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every character n-gram of every window, hashed with numpy in one pass."""
    rows, cols = [], []
    for h, ok, row in _ngram_hashes(windows, settings):
        rows.append(row[ok])
        cols.append(_modulo(h[ok], settings.n_features).astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


def _ngram_keys(windows: list[str], settings: FeatureSettings, shift: int) -> np.ndarray:
    """`row * width + (width - 1 - column)` of every character n-gram (see `_char_ngrams`), made
    in 32 bits as the n-grams are hashed: for a width of 2**shift, when every key fits in them."""
    mask = np.uint32((1 << shift) - 1)
    keys, high = [], None
    for h, ok, row in _ngram_hashes(windows, settings):
        if high is None:  # n = 1: every position
            high = row.astype(np.uint32) << np.uint32(shift)
        key = h.astype(np.uint32)  # the low 32 bits, which hold the column
        np.bitwise_and(key, mask, out=key)
        np.subtract(mask, key, out=key)
        key |= high[: len(key)]
        keys.append(key[ok])
    return np.concatenate(keys)


def _modulo(values: np.ndarray, n: int) -> np.ndarray:
    """`values % n` for non-negative integers; a mask of the low bits when n is a power of two
    (the same numbers, several times faster)."""
    if n > 0 and n & (n - 1) == 0:
        return values & values.dtype.type(n - 1)
    return values % values.dtype.type(n)


def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1).astype(np.uint32)
    return table


_CRC_TABLE = _crc_table()
# Words hash as zlib.crc32("w\0" + word): the register after the prefix, where every word starts.
_WORD_PREFIX = np.uint32(zlib.crc32(b"w\x00") ^ 0xFFFFFFFF)


def _crc_columns(data: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n_features: int) -> np.ndarray:
    """zlib.crc32 of "w\\0" + each byte string data[start : start + size] modulo n_features, for all
    of them at once: step k feeds the k-th byte of every string at least k + 1 bytes long."""
    if not len(sizes):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    starts, sizes = starts[order], sizes[order]
    running = np.searchsorted(-sizes, -np.arange(sizes[0]), side="left")  # strings longer than k bytes
    crc = np.full(len(sizes), _WORD_PREFIX, dtype=np.uint32)
    for k, m in enumerate(running.tolist()):
        crc[:m] = _CRC_TABLE[(crc[:m] ^ data[starts[:m] + k]) & 0xFF] ^ (crc[:m] >> 8)
    out = np.empty(len(sizes), dtype=np.int64)
    out[order] = _modulo((crc ^ np.uint32(0xFFFFFFFF)).astype(np.int64), n_features)
    return out


def _words(heads: list[str], settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every word of every head: words of two characters or more, or one CJK
    character. The distinct heads are cut in one call, and their words hashed with numpy."""
    from .words import cut_joined

    unique, head = distinct(heads)
    joined = "\n".join(unique)
    tokens = cut_joined(joined)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    if chars.sum() != len(points):
        raise ValueError("the word segmenter did not keep every character")
    at = np.cumsum(chars) - chars
    first = points[at] if len(at) else points[:0]
    newline = (chars == 1) & (first == 10)
    word = (chars > 1) | ((first >= 0x3400) & (first <= 0x9FFF))
    utf8 = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    offset = np.concatenate([[0], np.cumsum(utf8)])  # byte offset of each character
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    columns = _crc_columns(data, offset[at[word]], offset[at[word] + chars[word]] - offset[at[word]], settings.n_features)
    counts = np.bincount((np.cumsum(newline) - newline)[word], minlength=len(unique))
    rows, take = ragged_take(counts, head)  # each row takes its head's words
    return rows, columns[take]


def distinct(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in order of first appearance, and the index of each text among them."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
    return list(index), inverse


def ragged_take(counts: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries stored group after group (`counts[g]` entries for group g): for each k in turn, the
    entries of group `index[k]`. Returns the k of each taken entry and the entry's position."""
    per_row = counts[index]
    first = np.cumsum(counts) - counts
    take = np.arange(int(per_row.sum())) + np.repeat(first[index] - (np.cumsum(per_row) - per_row), per_row)
    return np.repeat(np.arange(len(index)), per_row), take


def hashed_entries(texts: list[str], settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and normalized count of every distinct hashed n-gram and word of each text.

    Entries run row by row, columns descending within a row: the order the sparse matrix of
    earlier versions held them in, so scores are summed in the same order (and come out equal).
    """
    norm = normalize("\n".join(_windows(texts, settings))).split("\n")
    heads = [w[1 : settings.word_chars + 1].split(GAP)[0].rstrip(END) for w in norm]
    r2, c2 = _words(heads, settings)
    width = settings.n_features
    shift = width.bit_length() - 1
    # Each entry as one key, row * width + (width - 1 - column): sorted, they run row by row and
    # columns descending. In 32 bits when every key fits, where they sort twice as fast.
    if 0 <= shift < 32 and width == 1 << shift and len(norm) * width <= 2**32:
        words = (r2 * width + (width - 1 - c2)).astype(np.uint32)
        keys, counts = np.unique(np.concatenate([_ngram_keys(norm, settings, shift), words]), return_counts=True)
        rows, cols = (keys >> np.uint32(shift)).astype(np.int64), (width - 1) - (keys & np.uint32(width - 1)).astype(np.int64)
    else:
        r1, c1 = _char_ngrams(norm, settings)
        keys = np.concatenate([r1, r2]) * width + (width - 1 - np.concatenate([c1, c2]))
        if len(norm) * width <= 2**32:
            keys = keys.astype(np.uint32)
        keys, counts = np.unique(keys, return_counts=True)
        keys = keys.astype(np.int64)
        rows, cols = keys // width, width - 1 - keys % width
    counts = counts.astype(float)
    lengths = np.bincount(rows, weights=counts * counts, minlength=len(texts))
    if settings.norm_cap:
        lengths = np.minimum(lengths, settings.norm_cap)
    lengths = np.sqrt(lengths)
    lengths[lengths == 0] = 1.0
    return rows, cols, (1.0 / lengths)[rows] * counts
