"""Decoding a whole document: chrome and body come in runs, so labels are chosen jointly.

The models give each unit's label probabilities; a transition matrix learned from the training
pages scores how labels follow each other; Viterbi finds the best sequence for the whole page.
The hidden states are the labels plus one more, `chrome_after`: chrome after the document's
last body unit. Pages end in footers, related lists and appended articles, and once the
document is over it does not resume; the learned transitions out of `chrome_after` say so,
while chrome inside the body (page-viewer controls between chunks) keeps its own state.
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


# Hidden states: the labels (in corpus.LABELS order), then chrome after the end of the body.
STATES = ("body", "chrome", "spam", "chrome_after")
STATE_LABEL = np.array([0, 1, 2, 1])


def states(labels: list[int]) -> list[int]:
    """Hidden states of a label sequence: chrome after the last body unit becomes chrome_after."""
    body = [k for k, v in enumerate(labels) if v == 0]
    last = body[-1] if body else -1
    return [3 if v == 1 and k > last and body else v for k, v in enumerate(labels)]


def fit_transitions(sequences: list[list[int]], n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Log start and transition probabilities from label sequences (add-one smoothed)."""
    start = np.full(n_labels, SMOOTHING)
    trans = np.full((n_labels, n_labels), SMOOTHING)
    for seq in sequences:
        if not seq:
            continue
        start[seq[0]] += 1
        for a, b in zip(seq, seq[1:]):
            trans[a, b] += 1
    return np.log(start / start.sum()), np.log(trans / trans.sum(axis=1, keepdims=True))


def viterbi(log_emit: np.ndarray, log_start: np.ndarray, log_trans: np.ndarray, weight: float = TRANSITION_WEIGHT) -> np.ndarray:
    """Best label index per row of `log_emit` (rows: units, columns: labels), through the hidden states."""
    if len(log_start) != log_emit.shape[1]:
        return STATE_LABEL[_viterbi(log_emit[:, STATE_LABEL[: len(log_start)]], log_start, log_trans, weight)]
    return _viterbi(log_emit, log_start, log_trans, weight)


def _viterbi(log_emit: np.ndarray, log_start: np.ndarray, log_trans: np.ndarray, weight: float) -> np.ndarray:
    n, k = log_emit.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    score = weight * log_start + log_emit[0]
    back = np.zeros((n, k), dtype=int)
    trans = weight * log_trans
    for t in range(1, n):
        cand = score[:, None] + trans
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + log_emit[t]
    path = np.empty(n, dtype=int)
    path[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
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
