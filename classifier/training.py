"""Training: features for the labeled corpus, the line model, label transitions, and
cross-validation with folds grouped by site, so scores reflect sites the model has not seen."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .corpus import LABELS, Document, corpus_hash
from .decode import TRANSITION_WEIGHT, fit_transitions
from .evaluation import Report, score
from .features import DocumentFeatures, FeatureSettings, featurize
from .filtering import Labeler
from .model import DEFAULT_C, LineModel

DEFAULT_FOLDS = 5


@dataclass
class TrainingSet:
    docs: list[Document]
    X: sparse.csr_matrix
    features: list[DocumentFeatures]
    y: np.ndarray  # label index per row, -1 where the line has no usable label
    row_doc: np.ndarray  # document index per row

    @classmethod
    def build(cls, docs: list[Document], settings: FeatureSettings) -> "TrainingSet":
        X, features = featurize([d.lines for d in docs], settings)
        y, row_doc = [], []
        for k, (doc, feats) in enumerate(zip(docs, features)):
            for i in feats.index:
                label = doc.line_label(i)
                y.append(LABELS.index(label) if label in LABELS else -1)
                row_doc.append(k)
        return cls(docs, X, features, np.array(y, dtype=int), np.array(row_doc, dtype=int))

    def sequences(self, doc_ids) -> list[list[int]]:
        out = []
        for k in doc_ids:
            labels = self.y[self.row_doc == k]
            out.append([int(v) for v in labels if v >= 0])
        return out


def fit(data: TrainingSet, doc_ids, settings: FeatureSettings, C: float = DEFAULT_C,
        transition_weight: float = TRANSITION_WEIGHT) -> Labeler:
    rows = np.isin(data.row_doc, list(doc_ids)) & (data.y >= 0)
    model = LineModel(C=C).fit(data.X[rows], [LABELS[v] for v in data.y[rows]])
    log_start, log_trans = fit_transitions(data.sequences(doc_ids), len(LABELS))
    return Labeler(model, settings, log_start, log_trans, transition_weight)


def site_folds(docs: list[Document], folds: int) -> list[list[int]]:
    """Documents split into folds by site: every document of a site is in the same fold."""
    from sklearn.model_selection import GroupKFold

    sites = [d.site for d in docs]
    n = min(folds, len(set(sites)))
    if n < 2:
        raise ValueError("cross-validation needs documents from at least two sites")
    return [list(test) for _, test in GroupKFold(n_splits=n).split(np.zeros(len(docs)), groups=sites)]


def cross_validate(data: TrainingSet, settings: FeatureSettings, folds: int = DEFAULT_FOLDS, C: float = DEFAULT_C,
                   transition_weight: float = TRANSITION_WEIGHT) -> Report:
    """Held-out predictions for every document, each from a model that never saw its site."""
    predictions: list = [None] * len(data.docs)
    for test in site_folds(data.docs, folds):
        train_ids = sorted(set(range(len(data.docs))) - set(test))
        labeler = fit(data, train_ids, settings, C, transition_weight)
        rows = np.isin(data.row_doc, test)
        X = data.X[rows]
        feats = [data.features[k] for k in test]
        for k, labels in zip(test, labeler.label_features([data.docs[k].lines for k in test], X, feats)):
            predictions[k] = labels
    return score(data.docs, predictions)


def report_summary(report: Report, folds: int) -> dict:
    c = report.chars
    return {
        "folds": folds,
        "grouped_by": "site",
        "documents": report.documents,
        "per_class": {label: {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "lines": n}
                      for label, (p, r, f, n) in report.per_class().items()},
        "body_chars": {"precision": round(c.precision, 4), "recall": round(c.recall, 4), "f1": round(c.f1, 4),
                       "junk_removed": round(c.junk_removed, 4)},
    }


def training_meta(docs: list[Document], source: str, report: Report | None, folds: int) -> dict:
    return {
        "training": {
            "source": source,
            "documents": len(docs),
            "sites": len({d.site for d in docs}),
            "lines": sum(1 for d in docs for label in d.labels if label),
            "sha256": corpus_hash(docs),
        },
        "cv": report_summary(report, folds) if report else None,
    }
