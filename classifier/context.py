"""The second pass: each line's label revised from the first pass's scores over the whole page.

A line model sees a line and its near neighbours. Some decisions need the whole page: prose
after the end of the main body is an appended article or a related list; a title-like line is
body just before the text and chrome far from it. This pass reads the first pass's
probabilities of every line and summarizes them around each line (neighbours, windows, where
the line sits relative to the page's main body block), and a small linear model turns that into
new probabilities. It is trained on out-of-fold first-pass scores, so it learns how the line
model errs on pages it has not seen.
"""
from __future__ import annotations

import numpy as np

NEIGHBORS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (3, 8)
STRONG = 0.8
LONG = 2000


def _names() -> list[str]:
    names = ["p_body", "p_chrome", "p_spam", "logp_body", "logp_chrome", "logp_spam"]
    for off in NEIGHBORS:
        tag = f"prev{-off}" if off < 0 else f"next{off}"
        names += [f"{tag}:exists", f"{tag}:p_body", f"{tag}:p_spam"]
    names += [f"window{w}:p_body" for w in WINDOWS]
    names += ["doc_p_body", "doc_max_p_spam", "body_mass_before", "body_mass_after",
              "in_main_block", "before_main_block_log", "after_main_block_log", "main_block_share",
              "before_first_strong", "after_last_strong", "top3_before_body", "len_share",
              "p_body_x_length", "p_body_x_len_share"]
    return names


CONTEXT_NAMES = _names()


def _main_blocks(p_body: np.ndarray, lengths: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per page: the run of body-looking lines (gaps of one line allowed) holding the most
    characters, as first and last index and mass ((0, -1) and 0 where there is none).
    One plain loop over the batch: a page's runs depend on the order of its lines."""
    first, last, best_mass = np.zeros(len(sizes), dtype=np.int64), np.zeros(len(sizes), dtype=np.int64), np.zeros(len(sizes))
    probs, weights, pos = p_body.tolist(), lengths.tolist(), 0
    for d, n in enumerate(sizes.tolist()):
        best, top, start, mass, gap = (0, -1), 0.0, None, 0.0, 0
        for i in range(n):
            if probs[pos + i] >= 0.5:
                if start is None:
                    start, mass = i, 0.0
                mass += weights[pos + i]
                gap = 0
                if mass > top:
                    best, top = (start, i), mass
            elif start is not None:
                gap += 1
                if gap > 1:
                    start, gap = None, 0
        first[d], last[d], best_mass[d] = best[0], best[1], top
        pos += n
    return first, last, best_mass


def _per_page(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each page's sum and running sum of `values`, computed page by page so that every value
    equals the one of the page scored alone."""
    sums, running = np.zeros(len(sizes)), np.empty(len(values))
    for d, (a, n) in enumerate(zip(starts.tolist(), sizes.tolist())):
        part = values[a : a + n]
        sums[d] = part.sum()
        running[a : a + n] = np.cumsum(part)
    return sums, running


def context_features(proba: np.ndarray, lengths: np.ndarray, sizes=None) -> np.ndarray:
    """Rows of CONTEXT_NAMES for one page's lines with text (first-pass probabilities, lengths),
    or for several pages' lines one after another (`sizes`: lines per page); a page's rows are
    the same either way."""
    n = len(proba)
    if n == 0:
        return np.zeros((0, len(CONTEXT_NAMES)))
    sizes = np.array([n]) if sizes is None else np.asarray(sizes, dtype=np.int64)
    sizes = sizes[sizes > 0]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    page = np.repeat(np.arange(len(sizes)), sizes)
    order, size = np.arange(n) - starts[page], sizes[page]
    p_body, p_spam = proba[:, 0], proba[:, 2]
    cols = [proba, np.maximum(np.log(np.maximum(proba, 1e-12)), -10.0) / 10]
    for off in NEIGHBORS:
        ok = (order + off >= 0) & (order + off < size)
        src = np.flatnonzero(ok) + off
        block = np.zeros((n, 3))
        block[ok, 0] = 1.0
        block[ok, 1] = p_body[src]
        block[ok, 2] = p_spam[src]
        cols.append(block)
    weights = np.log1p(lengths)
    mass = p_body * weights
    mass_sum, mass_before = _per_page(mass, starts, sizes)
    weight_sum, _ = _per_page(weights, starts, sizes)
    _, body_before = _per_page(p_body, starts, sizes)
    # Running sums with a 0 in front of each page: prefix[base + k] sums the page's first k lines.
    base = starts + np.arange(len(sizes))
    prefix = np.zeros(n + len(sizes))
    prefix[np.arange(n) + page + 1] = body_before
    for w in WINDOWS:
        lo, hi = np.maximum(order - w, 0), np.minimum(order + w + 1, size)
        cols.append(((prefix[base[page] + hi] - prefix[base[page] + lo]) / (hi - lo))[:, None])
    total = np.where(mass_sum != 0, mass_sum, 1.0)
    before = np.where(order > 0, np.concatenate([[0.0], mass_before[:-1]]), 0.0) / total[page]
    after = 1.0 - before - mass / total[page]
    first, last, best_mass = _main_blocks(p_body, weights, sizes)
    first, last, share = first[page], last[page], (best_mass / total)[page]
    strong = p_body >= STRONG
    first_strong = np.minimum.reduceat(np.where(strong, order, size), starts)[page]
    last_strong = np.maximum.reduceat(np.where(strong, order, -1), starts)[page]
    length_sum = np.maximum(_per_page(lengths, starts, sizes)[0], 1.0)[page]
    average = np.divide(mass_sum, weight_sum, out=np.zeros(len(sizes)), where=weight_sum != 0)
    doc = np.column_stack([
        average[page],
        np.maximum.reduceat(p_spam, starts)[page],
        before, after,
        (order >= first) & (order <= last),
        np.log1p(np.maximum(first - order, 0)) / 4,
        np.log1p(np.maximum(order - last, 0)) / 4,
        share,
        order < first_strong, order > last_strong,
        (order < 3) & (order < first_strong),
        lengths / length_sum,
        # A long unit is much evidence: these let the pass keep trusting its first-pass score.
        p_body * np.minimum(np.log1p(lengths) / np.log1p(LONG), 1.0),
        p_body * lengths / length_sum,
    ])
    cols.append(doc)
    return np.hstack(cols).astype(float)
