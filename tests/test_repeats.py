import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.features import PAGE_NAMES, FeatureSettings, dense_names, featurize
from classifier.repeats import _SPACES_INLINE, DIGITS, RepeatCounter, _squeezed


def test_counts_other_documents_holding_a_line():
    counter = RepeatCounter(width=1 << 12)
    first = counter.observe([["首页 | 范文", "同志们：今天开会。"], ["首页 | 范文", "另一篇正文。"]])
    assert list(first[0]) == [1, 0] and list(first[1]) == [1, 0]
    later = counter.observe([["首页 | 范文", "首页 | 范文", "第三篇正文。"]])
    assert list(later[0]) == [2, 2, 0]  # a line twice in one document counts that document once


def test_digits_and_spaces_are_folded():
    counter = RepeatCounter(width=1 << 12)
    counts = counter.observe([["浏览：1234 次"], ["浏览：87次"]])
    assert counts[0][0] == 1 and counts[1][0] == 1


def test_memory_does_not_grow_with_input():
    counter = RepeatCounter(width=1 << 10)
    size = counter.table.nbytes
    counter.observe([[f"第{i}行文字内容 {chr(0x4E00 + i)}"] for i in range(5000)])
    assert counter.table.nbytes == size and counter.documents == 5000


def test_a_single_page_has_no_repeat_evidence():
    settings = FeatureSettings(n_features=2**10)
    lines = ["首页", "正文一。", "首页"]
    _, docs = featurize([lines], settings, RepeatCounter(width=1 << 10))
    start = dense_names(settings).index(PAGE_NAMES[3])
    assert np.all(docs[0].dense[:, start : start + 3] == 0)
    _, docs = featurize([lines, ["首页", "正文二。"]], settings, RepeatCounter(width=1 << 10))
    assert docs[0].dense[0, start] == 1 and docs[0].dense[1, start] == 0


# Characters where `\d` and `\s` differ from their ASCII meaning, lone surrogates, and an astral digit.
_FOLD_CHARS = list("0123456789 \t\n\r\x0b\x0c\x1c\x85\u2028\u3000\xa0\u1680\u200b\ufeff\u0660\u0969\uff10\uff19ab中，") + [
    "\ud800", "\U0001d7ce", "浏览：", "第12页"]


@given(st.lists(st.sampled_from(_FOLD_CHARS), max_size=40))
@settings(max_examples=300, deadline=None)
def test_folding_by_table_equals_the_patterns(chars):
    text = "".join(chars)
    assert _squeezed(text) == DIGITS.sub("0", _SPACES_INLINE.sub("", text))
