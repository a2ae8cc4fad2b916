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


def _main_block(p_body: np.ndarray, lengths: np.ndarray) -> tuple[int, int, float]:
    """The run of body-looking lines (gaps of one line allowed) holding the most characters."""
    best, best_mass, start, mass, gap = (0, -1), 0.0, None, 0.0, 0
    for i, p in enumerate(p_body):
        if p >= 0.5:
            if start is None:
                start, mass = i, 0.0
            mass += lengths[i]
            gap = 0
            if mass > best_mass:
                best, best_mass = (start, i), mass
        elif start is not None:
            gap += 1
            if gap > 1:
                start, gap = None, 0
    total = float((p_body * lengths).sum()) or 1.0
    return best[0], best[1], best_mass / total


def context_features(proba: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rows of CONTEXT_NAMES for one page's lines with text (first-pass probabilities, lengths)."""
    n = len(proba)
    if n == 0:
        return np.zeros((0, len(CONTEXT_NAMES)))
    p_body, p_spam = proba[:, 0], proba[:, 2]
    cols = [proba, np.maximum(np.log(np.maximum(proba, 1e-12)), -10.0) / 10]
    for off in NEIGHBORS:
        src = np.arange(n) + off
        ok = (src >= 0) & (src < n)
        block = np.zeros((n, 3))
        block[ok, 0] = 1.0
        block[ok, 1] = p_body[src[ok]]
        block[ok, 2] = p_spam[src[ok]]
        cols.append(block)
    padded = np.concatenate([[0.0], np.cumsum(p_body)])
    for w in WINDOWS:
        lo, hi = np.maximum(np.arange(n) - w, 0), np.minimum(np.arange(n) + w + 1, n)
        cols.append(((padded[hi] - padded[lo]) / (hi - lo))[:, None])
    weights = np.log1p(lengths)
    mass = p_body * weights
    total = mass.sum() or 1.0
    before = np.concatenate([[0.0], np.cumsum(mass)[:-1]]) / total
    after = 1.0 - before - mass / total
    first, last, share = _main_block(p_body, weights)
    order = np.arange(n)
    strong = np.flatnonzero(p_body >= STRONG)
    first_strong = strong[0] if len(strong) else n
    last_strong = strong[-1] if len(strong) else -1
    doc = np.column_stack([
        np.full(n, float(np.average(p_body, weights=weights)) if weights.sum() else 0.0),
        np.full(n, float(p_spam.max())),
        before, after,
        (order >= first) & (order <= last),
        np.log1p(np.maximum(first - order, 0)) / 4,
        np.log1p(np.maximum(order - last, 0)) / 4,
        np.full(n, share),
        order < first_strong, order > last_strong,
        (order < 3) & (order < first_strong),
        lengths / max(lengths.sum(), 1.0),
        # A long unit is much evidence: these let the pass keep trusting its first-pass score.
        p_body * np.minimum(np.log1p(lengths) / np.log1p(LONG), 1.0),
        p_body * lengths / max(lengths.sum(), 1.0),
    ])
    cols.append(doc)
    return np.hstack(cols).astype(float)
