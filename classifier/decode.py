"""Decoding a whole document: chrome and body come in runs, so labels are chosen jointly.

The models give each unit's label probabilities; a transition matrix learned from the training
pages scores how labels follow each other; Viterbi finds the best sequence for the whole page.
The hidden states are the labels plus where the unit stands relative to the document:
`chrome_before`/`spam_before` come before its first body unit, `chrome_after` after its last.
Pages end in footers, related lists and appended articles, and once the document is over it
does not resume: the learned transitions out of `chrome_after` say so, while chrome inside the
body (page-viewer controls between chunks) keeps its own state. A path that never reaches
body pays `NO_BODY_COST`: a scraped page carries a document.
`TRANSITION_WEIGHT` trades transitions against evidence; a unit's own evidence grows with its
length (`emission_weights`).
"""
from __future__ import annotations

import numpy as np

TRANSITION_WEIGHT = 0.3
SMOOTHING = 1.0
# A long line is many characters of evidence: its emission weighs 1 + log1p(length / this), so
# a whole body on one 8,000-character line is not overruled by the chrome lines around it.
EVIDENCE_CHARS = 200.0


def emission_weights(lengths: np.ndarray) -> np.ndarray:
    return 1.0 + np.log1p(np.asarray(lengths, dtype=float) / EVIDENCE_CHARS)


# Hidden states: the labels (in corpus.LABELS order), then chrome after the document's last
# body unit, and chrome and spam before its first one.
STATES = ("body", "chrome", "spam", "chrome_after", "chrome_before", "spam_before")
STATE_LABEL = np.array([0, 1, 2, 1, 1, 2])
# A page whose path never reaches body pays this (in weighted log-probability): scraped pages
# carry a document, so a page comes out empty only when no unit makes a body plausible.
NO_BODY_COST = 12.0
IMPOSSIBLE = -1e9
# Which state may follow which (rows: from). Before-states lead only to each other or to body;
# chrome between body units must return to body (or spam); after the last body unit only
# chrome_after and spam follow.
ALLOWED = np.array([
    # body chrome spam after before spam_before
    [1, 1, 1, 1, 0, 0],  # body
    [1, 1, 1, 0, 0, 0],  # chrome (between body units)
    [1, 1, 1, 1, 0, 0],  # spam (after the first body unit)
    [0, 0, 1, 1, 0, 0],  # chrome_after
    [1, 0, 0, 0, 1, 1],  # chrome_before
    [1, 0, 0, 0, 1, 1],  # spam_before
], dtype=bool)
START_ALLOWED = np.array([1, 0, 0, 0, 1, 1], dtype=bool)
END_COST = np.array([0.0, -1e9, 0.0, 0.0, -NO_BODY_COST, -NO_BODY_COST])


def states(labels: list[int]) -> list[int]:
    """Hidden states of a label sequence (label indices in corpus.LABELS order)."""
    body = [k for k, v in enumerate(labels) if v == 0]
    if not body:
        return [4 if v == 1 else 5 for v in labels]
    first, last = body[0], body[-1]
    out = []
    for k, v in enumerate(labels):
        if k < first:
            out.append(4 if v == 1 else 5)
        elif k > last and v == 1:
            out.append(3)
        else:
            out.append(v)
    return out


def fit_transitions(sequences: list[list[int]], n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Log start and transition probabilities from state sequences (add-one smoothed over the
    transitions that can happen; see ALLOWED)."""
    structured = n_labels == len(STATES)
    start = np.where(START_ALLOWED, SMOOTHING, 0.0) if structured else np.full(n_labels, SMOOTHING)
    trans = np.where(ALLOWED, SMOOTHING, 0.0) if structured else np.full((n_labels, n_labels), SMOOTHING)
    for seq in sequences:
        if not seq:
            continue
        start[seq[0]] += 1
        for a, b in zip(seq, seq[1:]):
            trans[a, b] += 1
    with np.errstate(divide="ignore"):
        log_start, log_trans = np.log(start / start.sum()), np.log(trans / trans.sum(axis=1, keepdims=True))
    return np.maximum(log_start, IMPOSSIBLE), np.maximum(log_trans, IMPOSSIBLE)


def viterbi(log_emit: np.ndarray, log_start: np.ndarray, log_trans: np.ndarray, weight: float = TRANSITION_WEIGHT,
            same_line: np.ndarray | None = None, sizes=None) -> np.ndarray:
    """Best label index per row of `log_emit` (rows: units, columns: labels), through the hidden states.

    `same_line[t]` is true when unit t continues the line of unit t - 1: pasted chrome or spam
    inside a line does not follow the page's runs, so there only the structure constrains.
    With `sizes`, the rows are several documents' units one after another (units per
    document), each decoded on its own, all in one pass.
    """
    sizes = np.array([len(log_emit)]) if sizes is None else np.asarray(sizes, dtype=np.int64)
    if len(log_start) == len(STATES):
        return STATE_LABEL[_viterbi(log_emit[:, STATE_LABEL], sizes, log_start, log_trans, weight, END_COST, same_line)]
    return _viterbi(log_emit, sizes, log_start, log_trans, weight, None, same_line)


def _viterbi(log_emit: np.ndarray, sizes: np.ndarray, log_start: np.ndarray, log_trans: np.ndarray, weight: float,
             end: np.ndarray | None = None, same_line: np.ndarray | None = None) -> np.ndarray:
    """Step t advances the t-th unit of every document at once (documents longest first, so
    the ones still running are a prefix); each document's scores are those of decoding it alone."""
    n, k = log_emit.shape
    path = np.zeros(n, dtype=int)
    if n == 0:
        return path
    order = np.argsort(-sizes, kind="stable")
    order = order[sizes[order] > 0]
    lengths, first = sizes[order], (np.cumsum(sizes) - sizes)[order]
    running = np.searchsorted(-lengths, -np.arange(lengths[0]), side="left")  # documents longer than t
    trans = weight * log_trans
    within = np.where(log_trans > IMPOSSIBLE / 2, 0.0, IMPOSSIBLE)
    same = np.zeros(n, dtype=bool) if same_line is None else np.asarray(same_line, dtype=bool)
    back = np.zeros((n, k), dtype=int)
    score = weight * log_start + log_emit[first]
    for t in range(1, len(running)):
        m = running[t]
        rows = first[:m] + t
        cand = score[:m, :, None] + np.where(same[rows][:, None, None], within, trans)
        back[rows] = cand.argmax(axis=1)
        score[:m] = cand.max(axis=1) + log_emit[rows]
    if end is not None:
        score = score + end
    state = score.argmax(axis=1)  # of each document's last unit
    path[first + lengths - 1] = state
    for t in range(len(running) - 1, 0, -1):
        m = running[t]  # state[:m] holds the states of these documents' units t
        rows = first[:m] + t
        state[:m] = back[rows, state[:m]]
        path[rows - 1] = state[:m]
    return path


def fill_blank(n_lines: int, index: list[int], labels: list[str], body: str = "body", other: str = "chrome") -> list[str]:
    """Labels for every line: a blank line is body only between two body lines."""
    out = [other] * n_lines
    for i, label in zip(index, labels):
        out[i] = label
    for k in range(len(index) - 1):
        if labels[k] == body and labels[k + 1] == body:
            for i in range(index[k] + 1, index[k + 1]):
                out[i] = body
    return out
