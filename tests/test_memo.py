import random
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import page
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.features import FeatureSettings, dense_names, feature_rows
from classifier.memo import UnitMemo

SETTINGS = FeatureSettings(n_features=2**12)
WIDTH = SETTINGS.n_features + len(dense_names(SETTINGS))


def coef(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(3, WIDTH)).astype(np.float32)


def pages(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        lines = [text for _, text in page(rng, spam=rng.random() < 0.3)]
        lines.insert(rng.randrange(len(lines)), "　　會議認為，" + "今年的工作取得了明顯成效。" * 20)  # long, traditional
        lines.insert(rng.randrange(len(lines)), "zhōng（中）國 人民 (rén mín)")
        out.append(lines)
    return out


def assert_same(documents, memo, weights):
    with_memo, docs_memo = feature_rows(documents, SETTINGS, memo=memo)
    without, docs = feature_rows(documents, SETTINGS)
    assert np.array_equal(with_memo.dense, without.dense)
    assert np.array_equal(with_memo.dot(weights), without.dot(weights))
    assert [d.units for d in docs_memo] == [d.units for d in docs]


def test_scores_with_the_memo_equal_scores_without_it_to_the_bit():
    weights = coef()
    memo = UnitMemo(SETTINGS, weights)
    for batch in range(4):
        assert_same(pages(batch, 6), memo, weights)
    assert memo.hits > 50  # chrome recurred across batches and was read back
    assert all(len(text) <= memo.max_chars for text in memo.index)
    assert any(len(line.strip()) > memo.max_chars for p in pages(0, 6) for line in p)


def test_with_repeat_counts_only_texts_of_more_than_one_document_are_kept():
    from classifier.repeats import RepeatCounter

    weights = coef()
    memo, counter = UnitMemo(SETTINGS, weights), RepeatCounter(width=1 << 12)
    first = [["首页 | 新闻 | 通知", "第一篇的正文。"], ["首页 | 新闻 | 通知", "第二篇的正文。"]]
    with_memo, _ = feature_rows(first, SETTINGS, counter, memo=memo)
    assert set(memo.index) == {"首页 | 新闻 | 通知"}
    second = [["第一篇的正文。", "版权所有"]]  # a text of the first batch again: kept now
    feature_rows(second, SETTINGS, counter, memo=memo)
    assert set(memo.index) == {"首页 | 新闻 | 通知", "第一篇的正文。"}
    without, _ = feature_rows(first, SETTINGS, RepeatCounter(width=1 << 12))
    assert np.array_equal(with_memo.dot(weights), without.dot(weights))


def test_a_full_memo_starts_afresh_and_keeps_giving_the_same_scores():
    weights = coef(1)
    memo = UnitMemo(SETTINGS, weights, capacity=5, max_chars=20)
    for batch in range(3):
        assert_same(pages(batch, 3), memo, weights)
        assert 0 < len(memo.index) <= 5
    assert all(len(text) <= 20 for text in memo.index)


def test_threads_sharing_a_memo_get_the_scores_they_would_get_alone():
    weights = coef(3)
    memo = UnitMemo(SETTINGS, weights, capacity=40)
    batches = [pages(seed, 3) for seed in range(8)]
    expected = [feature_rows(batch, SETTINGS)[0].dot(weights) for batch in batches]

    def score(k: int) -> np.ndarray:
        return feature_rows(batches[k % 8], SETTINGS, memo=memo)[0].dot(weights)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often: races, if any, show
    try:
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(score, range(64)))
    finally:
        sys.setswitchinterval(interval)
    assert all(np.array_equal(g, expected[k % 8]) for k, g in enumerate(got))
    assert memo.hits > 0 and len(memo.index) <= 40


def test_rows_scored_for_one_model_refuse_another():
    weights = coef()
    rows, _ = feature_rows(pages(0, 2), SETTINGS, memo=UnitMemo(SETTINGS, weights))
    with pytest.raises(ValueError):
        rows.dot(coef(2))
    with pytest.raises(ValueError):
        rows.tocsr()


CHARS = list("首页上一篇：版权所有©京ICP备号同志们会議國。，|-_ 0123abc【】()（）篇1\t") + [
    "\r", "\x0b", "\u2028", "\x85", "\ufeff", "\u200b", "𠮷", "\ud800", "ﬁ", "㍿", "\u0301", "ā", "ǎ", "五"]
LINES = st.lists(st.text(st.sampled_from(CHARS), max_size=40), min_size=1, max_size=12)


@given(st.lists(LINES, min_size=1, max_size=6), st.lists(LINES, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_any_two_batches_score_the_same_with_a_shared_memo(first, second):
    weights = coef()
    memo = UnitMemo(SETTINGS, weights, capacity=16, max_chars=30)
    assert_same(first, memo, weights)
    assert_same(second, memo, weights)


def test_the_labeler_labels_as_without_the_memo(tiny_model):
    from classifier import artifacts
    from classifier.repeats import RepeatCounter

    labeler = artifacts.load(tiny_model)
    documents = pages(5, 8)
    counter_a, counter_b = RepeatCounter(width=1 << 12), RepeatCounter(width=1 << 12)
    memo_labels = labeler.label_documents(documents[:4], counter_a) + labeler.label_documents(documents[4:], counter_a)
    assert labeler.memo().hits > 0
    plain = []
    for batch in (documents[:4], documents[4:]):
        rows, docs = feature_rows(batch, labeler.settings, counter_b)
        plain += labeler.label_features(batch, rows, docs)
    assert memo_labels == plain


def test_a_labeler_that_has_labeled_pickles_and_comes_back_with_an_empty_memo(tiny_model):
    import pickle

    from classifier import artifacts

    labeler = artifacts.load(tiny_model)
    documents = pages(6, 4)
    labels = labeler.label_documents(documents)
    assert labeler.memo().index
    again = pickle.loads(pickle.dumps(labeler))
    assert again.memo().index == {}
    assert again.label_documents(documents) == labels


def test_weights_in_use_by_a_memo_cannot_change_in_place_and_a_new_model_gets_a_new_memo(tiny_model):
    from classifier import artifacts

    labeler = artifacts.load(tiny_model)
    documents = pages(7, 3)
    labeler.label_documents(documents)
    with pytest.raises(ValueError):
        labeler.model.coef_[0, 0] = 1.0
    other = artifacts.load(tiny_model).model
    other.coef_ = other.coef_ * np.float32(-1.0)  # assigned, not changed in place
    labeler.model = other
    rows, docs = feature_rows(documents, labeler.settings)
    assert labeler.label_documents(documents) == labeler.label_features(documents, rows, docs)
    assert labeler.memo().coef is other.coef_
