"""Why a unit got its label: the line model's probability, the page pass's revision, and the
features that weighed most.

A feature's weight for a label is its value times the label's coefficient, less the mean of the
three labels' coefficients (softmax scores only differ by these differences). Hashed columns are
named back by the character n-grams and words of the unit that fall in them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpus import LABELS
from .features import FeatureSettings, dense_names, featurize
from .filtering import Labeler, LineLabel
from .lexical import END, GAP, START, _char_ngrams, _windows, _words
from .normalize import normalize
from .segment import Unit
from .words import cut

_SHOWN = str.maketrans({START: "^", END: "$", GAP: "…"})


@dataclass
class Explanation:
    """One unit (a line or a segment of it): its final label and score, the line model's
    probabilities before the page pass, and (name, weight) of the strongest features."""

    line: int
    start: int
    end: int
    label: str
    score: float
    first_pass: dict[str, float]
    weights: list[tuple[str, float]]


def term_names(text: str, settings: FeatureSettings) -> dict[int, list[str]]:
    """Hashed column -> the n-grams and words of `text` that count in it. The columns come from
    the feature code itself, paired with the terms in the order it hashes them."""
    window = normalize(_windows([text], settings)[0])
    grams = [window[i : i + n] for n in range(1, settings.ngram_max + 1) for i in range(len(window) - n + 1)
             if n > 1 or ord(window[i]) > 4]
    head = window[1 : settings.word_chars + 1].split(GAP)[0].rstrip(END)
    words = [word for word in cut(head) if len(word) > 1 or "\u3400" <= word <= "\u9fff"]
    names: dict[int, list[str]] = {}
    for gram, column in zip(grams, _char_ngrams([window], settings)[1], strict=True):
        names.setdefault(int(column), []).append(f"chars \"{gram.translate(_SHOWN)}\"")
    for word, column in zip(words, _words([head], settings)[1], strict=True):
        names.setdefault(int(column), []).append(f"word \"{word}\"")
    return names


def explain_batch(labeler: Labeler, documents: list[list[str]], repeats=None,
                  top: int = 6) -> list[tuple[list[LineLabel], list[Explanation]]]:
    """Labels of each document (as `label_documents` gives them) and an explanation per unit."""
    X, docs = featurize(documents, labeler.settings, repeats)
    labels = labeler.label_features(documents, X, docs)
    proba = labeler.model.predict_proba(X) if X.shape[0] else np.zeros((0, len(LABELS)))
    coef = labeler.model.coef_
    centered = coef - coef.mean(axis=0, keepdims=True)
    dense = dense_names(labeler.settings)
    width = labeler.settings.n_features
    out, row = [], 0
    for lines, doc, doc_labels in zip(documents, docs, labels):
        explained = []
        for unit in doc.units:
            item = _covering(doc_labels, unit)
            k = LABELS.index(item.label)
            x = X.getrow(row)
            contrib = x.data * centered[k, x.indices]
            order = np.argsort(-np.abs(contrib))[:top]
            terms = term_names(lines[unit.line][unit.start : unit.end], labeler.settings)
            weights = [(_name(int(x.indices[j]), terms, dense, width), float(contrib[j])) for j in order if contrib[j]]
            explained.append(Explanation(unit.line + 1, unit.start, unit.end, item.label, item.score,
                                         {name: float(p) for name, p in zip(LABELS, proba[row])}, weights))
            row += 1
        out.append((doc_labels, explained))
    return out


def _covering(labels: list[LineLabel], unit: Unit) -> LineLabel:
    for item in labels:
        if item.line == unit.line + 1 and item.start <= unit.start < max(item.end, item.start + 1):
            return item
    raise LookupError(f"no label covers line {unit.line + 1} at {unit.start}")


def _name(column: int, terms: dict[int, list[str]], dense: list[str], width: int) -> str:
    if column >= width:
        return dense[column - width]
    found = terms.get(column)
    return " / ".join(dict.fromkeys(found)) if found else f"hashed#{column}"


def format_explanation(e: Explanation, text: str, source: str) -> str:
    first = " ".join(f"{name} {p:.2f}" for name, p in e.first_pass.items())
    shown = text.strip()
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    weights = "  ".join(f"{w:+.2f} {name}" for name, w in e.weights)
    return (f"{source}:{e.line} [{e.start}:{e.end}] {e.label} {e.score:.2f} (line model: {first})  {shown}\n"
            f"    {weights}")
