"""Labeling whole documents and keeping their body.

`Labeler` runs the pipeline: lines -> units (segments of lines, see segment.py) -> features ->
line model -> context pass over the page -> Viterbi decoding -> `LineLabel`s that tile every
line (one per line, or one per run of same-labeled segments within it). `body_text` keeps the
body lines, with blank lines where they stood
between body lines, and never alters or reorders a character.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .context import context_features
from .corpus import LABELS
from .decode import TRANSITION_WEIGHT, emission_weights, viterbi
from .features import DocumentFeatures, FeatureSettings, feature_rows
from .memo import UnitMemo
from .model import LinearModel
from .segment import Unit, _make, split_lines

# Documents scored together in one feature matrix: large enough to vectorize, small enough
# to keep memory flat.
BATCH_LINES = 20_000
# A longer document is labeled in consecutive pieces of this many lines, each as a page of its
# own: features cost some kilobytes per line, so a million-line file would take gigabytes at once.
PIECE_LINES = BATCH_LINES
SPAM = LABELS.index("spam")


def pieces(lines: list[str]) -> list[list[str]]:
    """A document as the pieces it is labeled in: itself, unless it is longer than PIECE_LINES."""
    if len(lines) <= PIECE_LINES:
        return [lines]
    return [lines[start : start + PIECE_LINES] for start in range(0, len(lines), PIECE_LINES)]


def batches(documents: list[list[str]]) -> list[list[list[str]]]:
    """The groups of documents (or of pieces of a long one) scored together, and counted together
    for repeats, in order."""
    out: list[list[list[str]]] = [[]]
    size = 0
    for lines in (piece for document in documents for piece in pieces(document)):
        out[-1].append(lines)
        size += len(lines)
        if size >= BATCH_LINES:
            out.append([])
            size = 0
    return [batch for batch in out if batch]


class LineLabel(NamedTuple):
    """The label of a line (1-based `line`) or of the segment [start, end) within it."""

    line: int
    label: str
    score: float
    start: int
    end: int


class Labeler:
    """A fitted line model, its context model, feature settings and label-transition matrix."""

    def __init__(self, model: LinearModel, context: LinearModel | None, settings: FeatureSettings,
                 log_start: np.ndarray, log_trans: np.ndarray, transition_weight: float = TRANSITION_WEIGHT,
                 meta: dict | None = None):
        self.model = model
        self.context = context
        self.settings = settings
        self.log_start = log_start
        self.log_trans = log_trans
        self.transition_weight = transition_weight
        self.meta = meta or {}
        self._memo: UnitMemo | None = None

    def label_documents(self, documents: list[list[str]], repeats=None, units=None) -> list[list[LineLabel]]:
        """Labels for every line of every document (each a list of lines).

        `repeats` (a `repeats.RepeatCounter`) shares repeated-line evidence across the documents
        and across calls; without it each document is labeled on its own. `units`: the units of
        each piece (see `pieces`), when they were cut already.
        """
        groups = batches(documents)
        cut = iter(units) if units is not None else None
        labels = [labels for batch in groups
                  for labels in self._label_batch(batch, repeats, [next(cut) for _ in batch] if cut else None)]
        return _rejoin(documents, labels)

    def _label_batch(self, documents: list[list[str]], repeats=None, units=None) -> list[list[LineLabel]]:
        X, docs = feature_rows(documents, self.settings, repeats, units, self.memo())
        return self.label_features(documents, X, docs)

    def memo(self) -> UnitMemo:
        """The text-only rows of recurring units, kept for as long as this model labels."""
        if self._memo is None or self._memo.coef is not self.model.coef_ or self._memo.settings != self.settings:
            self._memo = UnitMemo(self.settings, self.model.coef_)
        return self._memo

    def label_features(self, documents: list[list[str]], X, docs: list[DocumentFeatures]) -> list[list[LineLabel]]:
        """Labels from an already computed feature matrix (rows of `docs`, in order; `FeatureRows`
        or a sparse matrix of the same rows). The context pass and decoding run over all the
        documents at once; each document comes out as it would alone."""
        proba = self.model.predict_proba(X) if X.shape[0] else np.zeros((0, len(LABELS)))
        sizes = np.array([len(doc.units) for doc in docs], dtype=np.int64)
        lengths = np.concatenate([doc.lengths for doc in docs]) if docs else np.zeros(0)
        log_proba = self.revise(lengths, proba, sizes)
        same_line = np.array([u.part > 0 for doc in docs for u in doc.units], dtype=bool)
        path = viterbi(log_proba * emission_weights(lengths)[:, None], self.log_start, self.log_trans,
                       self.transition_weight, same_line, sizes)
        scores = np.exp(log_proba[np.arange(len(path)), path]).tolist() if len(path) else []
        path, results, start = path.tolist(), [], 0
        for lines, doc in zip(documents, docs):
            end = start + len(doc.units)
            results.append(self._labels(lines, doc.units, path[start:end], scores[start:end]))
            start = end
        return results

    def revise(self, lengths: np.ndarray, proba: np.ndarray, sizes=None) -> np.ndarray:
        """Log-probabilities after the context pass (the line model's own without one), for one
        document's units or for several documents' (`sizes`: units per document)."""
        if self.context is None or not len(lengths):
            return np.log(np.maximum(proba, 1e-12))
        revised = np.exp(self.context.predict_log_proba(context_features(proba, lengths, sizes)))
        # Spam is injected, unrelated to what surrounds it: its evidence is the unit's own, and the
        # page-level pass may not talk the line model out of it.
        # The other labels share what spam leaves, in the proportions the pass gave them.
        spam = np.maximum(revised[:, SPAM], proba[:, SPAM])
        revised[:, SPAM] = 0.0
        revised *= ((1.0 - spam) / np.maximum(revised.sum(axis=1), 1e-12))[:, None]
        revised[:, SPAM] = spam
        return np.log(np.maximum(revised, 1e-12))

    @staticmethod
    def _labels(lines: list[str], units: list[Unit], path: list[int], scores: list[float]) -> list[LineLabel]:
        """One document's `LineLabel`s, in line order, from the decoded label index and its
        probability per unit. Adjacent segments of a line with one label are reported as one; a
        blank line is body only between two body units (see decode.fill_blank)."""
        out: list[LineLabel] = []
        prev, last_line, last_body = None, -1, False
        for u, k, p in zip(units, path, scores):
            name, line = LABELS[k], u.line
            if line == last_line and prev.label == name:
                width, extra = prev.end - prev.start, u.end - u.start
                merged = (prev.score * width + p * extra) / max(width + extra, 1)
                out[-1] = prev = LineLabel(prev.line, name, round(merged, 4), prev.start, u.end)
                continue
            if line > last_line + 1:
                blank = "body" if last_body and k == 0 else "chrome"
                out += [_make(LineLabel, (i + 1, blank, 1.0, 0, len(lines[i]))) for i in range(last_line + 1, line)]
            prev = _make(LineLabel, (line + 1, name, round(p, 4), u.start, u.end))
            out.append(prev)
            last_line, last_body = line, k == 0
        out += [_make(LineLabel, (i + 1, "chrome", 1.0, 0, len(lines[i]))) for i in range(last_line + 1, len(lines))]
        return out

    def label(self, text: str) -> list[LineLabel]:
        return self.label_documents([split_lines(text)])[0]

    def filter(self, text: str) -> str:
        lines = split_lines(text)
        return body_text(lines, self.label_documents([lines])[0])


def _rejoin(documents: list[list[str]], piece_labels: list[list[LineLabel]]) -> list[list[LineLabel]]:
    """Labels per document from labels per piece (see `pieces`), lines numbered from the document's start."""
    out, k = [], 0
    for lines in documents:
        count = max(1, -(-len(lines) // PIECE_LINES))
        if count == 1:
            out.append(piece_labels[k])
        else:
            out.append([item._replace(line=item.line + p * PIECE_LINES)
                        for p in range(count) for item in piece_labels[k + p]])
        k += count
    return out


def body_text(lines: list[str], labels: list[LineLabel]) -> str:
    """The body segments joined as they stood: lines by newlines, segments of a line directly.
    Blank lines are kept only between body lines."""
    return trim_blank_lines("\n".join(_body_lines(lines, labels)[1]))


def _body_lines(lines: list[str], labels: list[LineLabel]) -> tuple[list[int], list[str]]:
    """The lines (1-based, ascending) with a body segment, and the body segments of each, joined."""
    kept: dict[int, list[str]] = {}
    for item in labels:
        if item.label == "body":
            kept.setdefault(item.line, []).append(lines[item.line - 1][item.start : item.end])
    numbers = sorted(kept)
    return numbers, ["".join(kept[n]) for n in numbers]


def trim_blank_lines(text: str) -> str:
    """`text` without the whitespace-only lines at either end."""
    lo = 0
    while True:  # past the blank lines at the start
        nl = text.find("\n", lo)
        if text[lo : len(text) if nl < 0 else nl].strip():
            break
        if nl < 0:
            return ""
        lo = nl + 1
    hi = len(text)
    while True:  # before those at the end (a line with text stands before them)
        nl = text.rfind("\n", lo, hi)
        if text[lo if nl < 0 else nl + 1 : hi].strip():
            return text[lo:hi]
        hi = nl


def dropped_lines(lines: list[str], labels: list[LineLabel]) -> dict[str, int]:
    """Lines with text dropped, per label: a line counts under the label of most of its dropped text."""
    widest: dict[int, LineLabel] = {}
    for item in labels:
        if item.label != "body" and lines[item.line - 1][item.start : item.end].strip():
            best = widest.get(item.line)
            if best is None or item.end - item.start > best.end - best.start:
                widest[item.line] = item
    counts: dict[str, int] = {}
    for item in widest.values():
        counts[item.label] = counts.get(item.label, 0) + 1
    return counts


def kept_lines(lines: list[str], labels: list[LineLabel]) -> list[int]:
    """The lines (1-based, ascending) holding body text."""
    return [number for number, text in zip(*_body_lines(lines, labels)) if text.strip()]


class Kept(NamedTuple):
    """What filtering a document gives: its body, and what a run counts of it."""

    text: str  # the body segments of every line that has one, lines joined by newlines; see `body`
    start: int  # the first and last line (1-based) with a body segment, blank or not; 0 when none
    end: int
    lines: int  # lines of the document
    kept: int  # lines holding body text
    dropped: dict[str, int]  # `dropped_lines`

    @property
    def body(self) -> str:
        """`body_text`: `text` without whitespace-only lines at its ends. A part of a giant input
        keeps them in `text`, as they may stand between body lines of the parts around it."""
        return trim_blank_lines(self.text)


def keep(lines: list[str], labels: list[LineLabel]) -> Kept:
    """A labeled document's body and counts: what `filter` needs, computed where it was labeled
    (a worker process sends this instead of its labels)."""
    numbers, texts = _body_lines(lines, labels)
    return Kept("\n".join(texts), numbers[0] if numbers else 0, numbers[-1] if numbers else 0, len(lines),
                sum(1 for text in texts if text.strip()), dropped_lines(lines, labels))
