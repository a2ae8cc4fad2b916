
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.corpus import Document
from classifier.evaluation import CharCounts, keep_everything, lcs_length, score
from classifier.filtering import LineLabel


def lcs_dp(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize("a, b, n", [("", "abc", 0), ("abc", "abc", 3), ("abcbdab", "bdcaba", 4), ("正文内容", "文内", 2)])
def test_lcs_known_cases(a, b, n):
    assert lcs_length(a, b) == n == lcs_length(b, a)


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet="abc正文", max_size=40), st.text(alphabet="abcd正", max_size=40))
def test_lcs_matches_dynamic_programming(a, b):
    assert lcs_length(a, b) == lcs_dp(a, b)


def test_char_scores_ignore_whitespace():
    c = CharCounts()
    # page: 4 body chars + 4 junk chars; kept: 3 body chars + 2 junk chars
    c.add(kept="正 文\n内导航", gold="正文内容", page="导航栏目\n正文内容")
    assert (c.kept, c.gold, c.matched, c.junk) == (5, 4, 3, 4)
    assert c.precision == pytest.approx(3 / 5) and c.recall == pytest.approx(3 / 4)
    assert c.junk_removed == pytest.approx(1 - 2 / 4)


def test_keep_everything_has_full_recall_and_no_junk_removed():
    doc = Document("d", "s", ["导航", "正文。", "版权"], ["chrome", "body", "chrome"], "正文。")
    report = score([doc], [keep_everything(doc)])
    assert report.chars.recall == 1.0 and report.chars.junk_removed == 0.0
    assert report.count("chrome", "body") == 2


def test_line_scores_and_spam_counts():
    lines = ["垃圾", "导航", "正文。", "", "正文二。"]
    doc = Document("d", "s", lines, ["spam", "chrome", "body", None, "body"], "正文。\n正文二。")
    predicted = [LineLabel(1, "body", 1, 0, 2), LineLabel(2, "chrome", 1, 0, 2), LineLabel(3, "body", 1, 0, 3),
                 LineLabel(4, "body", 1, 0, 0), LineLabel(5, "spam", 1, 0, 4)]
    report = score([doc], [predicted])
    assert report.spam_kept == 1 and report.body_as_spam == 1
    p, r, f, n = report.per_class()["body"]
    assert (p, r, n) == (0.5, 0.5, 2)
    assert report.chars.matched == 3
