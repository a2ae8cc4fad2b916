import numpy as np

from classifier.context import CONTEXT_NAMES, context_features


def pages(sizes, seed=0):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    proba = rng.dirichlet([0.4, 0.4, 0.4], size=n)
    proba[rng.random(n) < 0.3, 0] = 0.9  # runs of body-looking lines
    lengths = rng.integers(1, 400, size=n).astype(float)
    return proba, lengths


def test_rows_of_one_page():
    proba, lengths = pages([9])
    rows = context_features(proba, lengths)
    assert rows.shape == (9, len(CONTEXT_NAMES))
    assert (rows[:, CONTEXT_NAMES.index("prev1:exists")] == [0] + [1] * 8).all()
    assert context_features(proba[:0], lengths[:0]).shape == (0, len(CONTEXT_NAMES))


def test_pages_scored_together_equal_pages_scored_alone_exactly():
    sizes = [7, 0, 1, 30, 2, 15]
    proba, lengths = pages(sizes, seed=1)
    together = context_features(proba, lengths, sizes)
    starts = np.cumsum(sizes) - sizes
    alone = [context_features(proba[a : a + n], lengths[a : a + n]) for a, n in zip(starts, sizes) if n]
    assert np.array_equal(together, np.vstack(alone))
