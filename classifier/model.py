"""The line model: a multinomial logistic regression over line features.

Fitting uses scikit-learn; predicting needs only the fitted arrays (`coef_`, `intercept_`), so a
saved model loads without unpickling anything and scores lines with one sparse product.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .corpus import LABELS

DEFAULT_C = 4.0
DEFAULT_MAX_ITER = 300


class LineModel:
    """Per-line probabilities of `body`, `chrome`, `spam` (scikit-learn conventions)."""

    def __init__(self, C: float = DEFAULT_C, max_iter: int = DEFAULT_MAX_ITER, class_weight: str | None = "balanced"):
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight

    def fit(self, X: sparse.spmatrix, y: list[str]) -> "LineModel":
        from sklearn.linear_model import LogisticRegression

        present = [label for label in LABELS if label in set(y)]
        if len(present) < 2:
            raise ValueError(f"training needs at least two labels, got {present}")
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=self.class_weight)
        clf.fit(X, y)
        # Keep all three labels in a fixed order, even when one is missing from the data.
        self.classes_ = list(LABELS)
        self.coef_ = np.zeros((len(LABELS), X.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(LABELS), -30.0, dtype=np.float32)
        coef, intercept = clf.coef_, clf.intercept_
        if len(clf.classes_) == 2:  # binary problems store one row: the second class's score
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
        for row, label in enumerate(clf.classes_):
            k = LABELS.index(label)
            self.coef_[k] = coef[row]
            self.intercept_[k] = intercept[row]
        return self

    def decision_function(self, X: sparse.spmatrix) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_log_proba(self, X: sparse.spmatrix) -> np.ndarray:
        scores = self.decision_function(X)
        scores -= scores.max(axis=1, keepdims=True)
        return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))

    def predict_proba(self, X: sparse.spmatrix) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))

    @classmethod
    def from_arrays(cls, coef: np.ndarray, intercept: np.ndarray, **params) -> "LineModel":
        model = cls(**params)
        model.classes_ = list(LABELS)
        model.coef_ = coef.astype(np.float32)
        model.intercept_ = intercept.astype(np.float32)
        return model
