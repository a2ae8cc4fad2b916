"""The linear models: multinomial logistic regression fitted by SGD (log loss, averaged).

Fitting uses scikit-learn; predicting needs only the fitted arrays (`coef_`, `intercept_`) and
numpy, so a saved model loads without unpickling anything and labeling imports neither
scikit-learn nor scipy.
"""
from __future__ import annotations

import numpy as np

from .corpus import LABELS
from .features import FeatureRows

DEFAULT_ALPHA = 3e-5
DEFAULT_EPOCHS = 20


class LinearModel:
    """Probabilities of `body`, `chrome`, `spam` from a feature matrix (scikit-learn conventions)."""

    def __init__(self, alpha: float = DEFAULT_ALPHA, epochs: int = DEFAULT_EPOCHS, random_state: int = 0):
        self.alpha = alpha
        self.epochs = epochs
        self.random_state = random_state

    def fit(self, X, y: list[str]) -> LinearModel:
        from sklearn.linear_model import SGDClassifier

        present = sorted(set(y), key=LABELS.index)
        if len(present) < 2:
            raise ValueError(f"training needs lines of at least two labels, got {present}")
        clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.epochs, tol=None, average=True,
                            random_state=self.random_state)
        clf.fit(X, y)
        # All three labels in a fixed order, even when one is missing from the data.
        self.classes_ = list(LABELS)
        self.coef_ = np.zeros((len(LABELS), X.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(LABELS), -30.0, dtype=np.float32)
        coef, intercept = clf.coef_, clf.intercept_
        if len(clf.classes_) == 2:  # binary problems store one row: the second class's score
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
        for row, label in enumerate(clf.classes_):
            self.coef_[LABELS.index(label)] = coef[row]
            self.intercept_[LABELS.index(label)] = intercept[row]
        return self

    def decision_function(self, X) -> np.ndarray:
        """Scores of X: a dense array, a scipy sparse matrix, or `FeatureRows`."""
        if isinstance(X, FeatureRows):
            return X.dot(self.coef_) + self.intercept_
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_log_proba(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        scores -= scores.max(axis=1, keepdims=True)
        return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))

    def predict_proba(self, X) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))

    @classmethod
    def from_arrays(cls, coef: np.ndarray, intercept: np.ndarray, **params) -> LinearModel:
        model = cls(**params)
        model.classes_ = list(LABELS)
        model.coef_ = coef.astype(np.float32)
        model.intercept_ = intercept.astype(np.float32)
        return model
