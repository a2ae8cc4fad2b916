"""Training: features for the labeled corpus, the line model, label transitions, and
cross-validation with folds grouped by site, so scores reflect sites the model has not seen."""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .context import context_features
from .corpus import LABELS, Document, corpus_hash
from .decode import STATES, TRANSITION_WEIGHT, fit_transitions, states
from .evaluation import Report, format_group_report, score, score_groups
from .features import DocumentFeatures, FeatureSettings, featurize
from .filtering import Labeler
from .model import DEFAULT_ALPHA, LinearModel
from .repeats import RepeatCounter

DEFAULT_FOLDS = 5
# Folds for the out-of-fold first-pass scores the context model learns from.
INNER_FOLDS = 3
# The context model reads a few dense summaries of first-pass scores; strong regularization
# keeps it from trusting them blindly on sites unlike the training ones.
CONTEXT_ALPHA_SCALE = 100.0
# Scraped pages often arrive cut short, or without their header. Each training page is also
# seen as CROPS truncated views, so the model does not lean on "the last lines are footer".
CROPS = 4
CROP_CHARS = (300, 3000)


def _cut(doc: Document, i: int, length: int) -> list[tuple[int, int, str]]:
    return [(s, min(e, length), name) for s, e, name in doc.spans.get(i, []) if s < length]


def crops(doc: Document, n: int = CROPS) -> list[Document]:
    """Truncated views of a page: a random prefix (its last line cut) or a page without its top."""
    rng = random.Random(zlib.crc32(doc.id.encode("utf-8")))
    out = []
    for k in range(n):
        lines, labels, spans = [], [], {}
        if k < n - 1:
            budget, used = rng.randint(*CROP_CHARS), 0
            for i, (line, label) in enumerate(zip(doc.lines, doc.labels)):
                size = len(line) if used + len(line) <= budget else max(budget - used, 0)
                if size < len(line) and not line[:size].strip():
                    break
                if label == "mixed":
                    spans[len(lines)] = _cut(doc, i, size)
                lines.append(line[:size])
                labels.append(label)
                used += len(line) + 1
                if size < len(line):
                    break
        else:
            # Without the header: often exactly from the document's first line (extractors and
            # scrapers that start at the content), otherwise from a random line of the top third.
            body = [i for i, label in enumerate(doc.labels) if label in ("body", "mixed")]
            start = body[0] if body and rng.random() < 0.5 else rng.randint(1, max(1, len(doc.lines) // 3))
            end = body[-1] + 1 if body and rng.random() < 0.5 else len(doc.lines)
            if end <= start:
                end = len(doc.lines)
            lines, labels = doc.lines[start:end], doc.labels[start:end]
            spans = {i - start: pieces for i, pieces in doc.spans.items() if start <= i < end}
        if any(label for label in labels):
            out.append(Document(f"{doc.id}#crop{k}", doc.site, lines, labels, "", spans))
    return out


@dataclass
class TrainingSet:
    docs: list[Document]
    X: sparse.csr_matrix
    features: list[DocumentFeatures]
    y: np.ndarray  # label index per row, -1 where the unit has no usable label
    row_doc: np.ndarray  # document index per row
    originals: int  # docs[:originals] are the pages; the rest are their crops

    @classmethod
    def build(cls, pages: list[Document], settings: FeatureSettings, augment: int = CROPS) -> TrainingSet:
        """Features of the pages (with repeated-line evidence across them, as when a directory is
        filtered) and of their truncated views (without it, as when a page is filtered alone)."""
        views = [crop for page in pages for crop in crops(page, augment)]
        X1, f1 = featurize([d.lines for d in pages], settings, RepeatCounter())
        X2, f2 = featurize([d.lines for d in views], settings)
        docs, features = list(pages) + views, f1 + f2
        y, row_doc = [], []
        for k, (doc, feats) in enumerate(zip(docs, features)):
            for u in feats.units:
                label = doc.segment_label(u.line, u.start, u.end)
                y.append(LABELS.index(label) if label in LABELS else -1)
                row_doc.append(k)
        return cls(docs, sparse.vstack([X1, X2], format="csr"), features, np.array(y, dtype=int),
                   np.array(row_doc, dtype=int), len(pages))

    def sequences(self, doc_ids) -> list[list[int]]:
        """Hidden-state sequences (see decode.states) of the documents' labeled units."""
        out = []
        for k in doc_ids:
            labels = self.y[self.row_doc == k]
            out.append(states([int(v) for v in labels if v >= 0]))
        return out


def _rows(data: TrainingSet, doc_ids) -> np.ndarray:
    return np.isin(data.row_doc, list(doc_ids)) & (data.y >= 0)


def _line_model(data: TrainingSet, doc_ids, alpha: float) -> LinearModel:
    rows = _rows(data, doc_ids)
    return LinearModel(alpha=alpha).fit(data.X[rows], [LABELS[v] for v in data.y[rows]])


def _site_groups(data: TrainingSet, doc_ids, folds: int) -> list[list[int]]:
    sites = sorted({data.docs[k].site for k in doc_ids})
    return [[k for k in doc_ids if data.docs[k].site in sites[f::folds]] for f in range(min(folds, len(sites)))]


def out_of_fold_proba(data: TrainingSet, doc_ids, alpha: float, folds: int = INNER_FOLDS) -> np.ndarray:
    """First-pass probabilities for the rows of doc_ids, each from a model that never saw its site."""
    proba = np.zeros((data.X.shape[0], len(LABELS)))
    doc_ids = list(doc_ids)
    for held in _site_groups(data, doc_ids, folds):
        held_set = set(held)
        model = _line_model(data, [k for k in doc_ids if k not in held_set], alpha)
        rows = np.isin(data.row_doc, held)
        proba[rows] = model.predict_proba(data.X[rows])
    return proba


def _context_model(data: TrainingSet, doc_ids, proba: np.ndarray, alpha: float) -> LinearModel:
    feats, labels = [], []
    for k in doc_ids:
        rows = np.flatnonzero(data.row_doc == k)
        if not len(rows):
            continue
        ok = data.y[rows] >= 0
        feats.append(context_features(proba[rows], data.features[k].lengths)[ok])
        labels.extend(LABELS[v] for v in data.y[rows][ok])
    return LinearModel(alpha=alpha * CONTEXT_ALPHA_SCALE).fit(np.vstack(feats), labels)


def fit(data: TrainingSet, doc_ids, settings: FeatureSettings, alpha: float = DEFAULT_ALPHA,
        transition_weight: float = TRANSITION_WEIGHT) -> Labeler:
    """Line model on doc_ids, context model on their out-of-fold scores, transitions."""
    doc_ids = list(doc_ids)
    model = _line_model(data, doc_ids, alpha)
    if len({data.docs[k].site for k in doc_ids}) >= 2:
        proba = out_of_fold_proba(data, doc_ids, alpha)
    else:  # one site: no held-out scores to be had, so the context model learns from in-sample ones
        proba = model.predict_proba(data.X)
    context = _context_model(data, doc_ids, proba, alpha)
    # Transitions from every view; where pages start, from whole pages only (a truncated view's
    # first unit is wherever the cut fell).
    _, log_trans = fit_transitions(data.sequences(doc_ids), len(STATES))
    log_start, _ = fit_transitions(data.sequences([k for k in doc_ids if k < data.originals]), len(STATES))
    return Labeler(model, context, settings, log_start, log_trans, transition_weight)


def site_folds(docs: list[Document], folds: int) -> list[list[int]]:
    """Documents split into folds by site: every document of a site is in the same fold."""
    from sklearn.model_selection import GroupKFold

    sites = [d.site for d in docs]
    n = min(folds, len(set(sites)))
    if n < 2:
        raise ValueError("cross-validation needs documents from at least two sites")
    return [list(test) for _, test in GroupKFold(n_splits=n).split(np.zeros(len(docs)), groups=sites)]


def cross_validate(data: TrainingSet, settings: FeatureSettings, folds: int = DEFAULT_FOLDS,
                   alpha: float = DEFAULT_ALPHA, transition_weight: float = TRANSITION_WEIGHT) -> Report:
    """Scores of held-out predictions for every page, each from a model that never saw its site."""
    return score(*held_out(data, settings, folds, alpha, transition_weight))


def held_out(data: TrainingSet, settings: FeatureSettings, folds: int = DEFAULT_FOLDS,
             alpha: float = DEFAULT_ALPHA, transition_weight: float = TRANSITION_WEIGHT) -> tuple[list[Document], list]:
    """The original pages and, for each, the labels of a model trained without its site."""
    pages = data.docs[: data.originals]
    predictions: list = [None] * len(pages)
    for test in site_folds(pages, folds):
        test_sites = {pages[k].site for k in test}
        train_ids = [k for k, doc in enumerate(data.docs) if doc.site not in test_sites]
        labeler = fit(data, train_ids, settings, alpha, transition_weight)
        rows = np.isin(data.row_doc, test)
        X = data.X[rows]
        feats = [data.features[k] for k in test]
        for k, labels in zip(test, labeler.label_features([data.docs[k].lines for k in test], X, feats)):
            predictions[k] = labels
    return pages, predictions


WEAKEST_SITES = 5


def by_site(pages: list[Document], predictions: list) -> list[tuple[str, Report]]:
    """Scores of each site's pages, weakest first (character F1, then junk removed)."""
    reports = score_groups(pages, predictions, lambda doc: [doc.site]).items()
    return sorted(reports, key=lambda item: (item[1].chars.f1, item[1].chars.junk_removed, item[0]))


def format_site_report(sites: list[tuple[str, Report]], limit: int = WEAKEST_SITES) -> str:
    return format_group_report(f"weakest sites (of {len(sites)}):", "site", dict(sites[:limit]))


def _brief(report: Report) -> dict:
    c = report.chars
    return {"pages": report.documents, "char_f1": round(c.f1, 4), "junk_removed": round(c.junk_removed, 4),
            "body_f1": round(report.per_class()["body"][2], 4), "spam_kept": report.spam_kept}


def report_summary(report: Report, folds: int, patterns: dict[str, Report] | None = None,
                   sites: list[tuple[str, Report]] | None = None) -> dict:
    c = report.chars
    extra = {}
    if patterns is not None:
        extra["patterns"] = {name: _brief(r) for name, r in patterns.items()}
    if sites is not None:
        extra["weakest_sites"] = [{"site": site, **_brief(r)} for site, r in sites[:WEAKEST_SITES]]
    return {
        "folds": folds,
        "grouped_by": "site",
        "documents": report.documents,
        "per_class": {label: {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "lines": n}
                      for label, (p, r, f, n) in report.per_class().items()},
        "body_chars": {"precision": round(c.precision, 4), "recall": round(c.recall, 4), "f1": round(c.f1, 4),
                       "junk_removed": round(c.junk_removed, 4)},
        **extra,
    }


def training_meta(docs: list[Document], source: str, report: Report | None, folds: int,
                  patterns: dict[str, Report] | None = None, sites: list[tuple[str, Report]] | None = None) -> dict:
    return {
        "training": {
            "source": source,
            "documents": len(docs),
            "sites": len({d.site for d in docs}),
            "lines": sum(1 for d in docs for label in d.labels if label),
            "sha256": corpus_hash(docs),
        },
        "cv": report_summary(report, folds, patterns, sites) if report else None,
    }
