from classifier.segment import content_indices, is_blank, split_lines


def test_split_keeps_blank_lines_in_place():
    lines = split_lines("标题\n\n　　正文一\n \n正文二\n")
    assert lines == ["标题", "", "　　正文一", " ", "正文二", ""]
    assert content_indices(lines) == [0, 2, 4]


def test_full_width_space_only_line_is_blank():
    assert is_blank("\u3000\u3000") and not is_blank("　　一")


def test_split_round_trips():
    text = "a\n\nb\n"
    assert "\n".join(split_lines(text)) == text


# --- segments within a line ------------------------------------------------------------------

import pytest  # noqa: E402
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from classifier.segment import _PATTERNS, KINDS, MAX_SEGMENTS, _prefix_matches, split_line, units  # noqa: E402


def pieces(line: str) -> list[tuple[str, str]]:
    return [(KINDS[kind], line[start:end]) for start, end, kind in split_line(line)]


def test_plain_lines_are_one_segment():
    for line in ["同志们：", "首页 | 范文 | 讲话稿", "　　我们要坚持久久为功，推动福利彩票发行工作。", "一、指导思想（见附件1）"]:
        assert split_line(line) == [(0, len(line), 0)]


@pytest.mark.parametrize("line, kind, chrome", [
    ("　　会议强调[找材料 到某某网-www.example.com-文秘资料站点]要压实责任。", "ad",
     "[找材料 到某某网-www.example.com-文秘资料站点]"),
    ("我们要加强领导……(某某网http://www.example.cn省略979字,正式会员可完整阅读)……确保安全。", "notice",
     "……(某某网http://www.example.cn省略979字,正式会员可完整阅读)……"),
    ("标题：在全县大会上的讲话 | 同志们：今天召开会议。", "prefix", "标题：在全县大会上的讲话 |"),
    # Meta fields after the title go with it; after a bracketed site name or a breadcrumb too.
    ("【某某网】标题：全县大会讲话 | 作者：办公室 | 日期：2022/6/11 | 同志们：今天召开会议。", "prefix",
     "标题：全县大会讲话 | 作者：办公室 | 日期：2022/6/11 |"),
    ("当前位置：首页 > 讲话　标题：全县大会讲话 | 发布：2020-06-08 | 同志们：今天召开会议。", "prefix",
     "标题：全县大会讲话 | 发布：2020-06-08 |"),
    ("5 S& V `* V' e! a( t( S6 X/ i一说问题，有的同志就不高兴。", "jammer", "5 S& V `* V' e! a( t( S6 X/ i"),
    ("今天，澳门某某娱乐城召开全体教职工大会，部署新学期工作。", "spam", "澳门某某娱乐城"),
    ("p { color: #000000; line-height: 115%; } a:link { so-language: zxx } 我们要加强安全生产工作。", "code",
     "p { color: #000000; line-height: 115%; } a:link { so-language: zxx } "),
    ("会议结束。——————————————谢谢大家！", "separator", "——————————————"),
])
def test_chrome_attachment_points_become_their_own_segment(line, kind, chrome):
    assert (kind, chrome) in pieces(line)


def test_link_tails_are_cut_before_each_marker():
    line = "全文完。上一篇：关于某某的通知 下一篇：关于某某的报告 相关栏目：讲话稿"
    tails = [text for kind, text in pieces(line) if kind == "tail"]
    assert tails == ["上一篇：关于某某的通知 ", "下一篇：关于某某的报告 ", "相关栏目：讲话稿"]


def test_a_page_on_one_line_is_cut_at_paragraph_breaks():
    paragraph = "我们要进一步提高认识，切实加强领导，确保各项任务圆满完成。"
    line = "　　".join([paragraph] * 12)
    assert len(split_line(line)) == 12


def test_units_skip_blank_lines_and_count_parts():
    us = units(["首页", "", "甲甲……(省略979字,会员可完整阅读)……乙乙", "  "])
    assert [u.line for u in us] == [0, 2, 2, 2]
    assert [(u.part, u.parts) for u in us[1:]] == [(0, 3), (1, 3), (2, 3)]


def test_segment_count_is_bounded():
    line = "甲乙。 " * (MAX_SEGMENTS * 3)
    segments = split_line(line)
    assert len(segments) == MAX_SEGMENTS and segments[-1][1] == len(line)


ALPHABET = list("甲乙丙。，…()（）[]【】|:：_-— \u3000上一篇下标题网www.com省略字S&V`*e!{};<>娱乐城国产精品")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=400))
def test_segments_tile_the_line(line):
    segments = split_line(line)
    assert segments[0][0] == 0 and segments[-1][1] == len(line)
    assert all(a[1] == b[0] for a, b in zip(segments, segments[1:]))
    assert all(end > start for start, end, _ in segments)
    assert "".join(line[s:e] for s, e, _ in segments) == line


@pytest.mark.parametrize("line", ["今天我演讲的 题目是《青春——奋斗》，希望大家喜欢。",
                                  "今天我演讲的 题目：《青春——奋斗的年华》，希望大家喜欢。"])
def test_a_title_word_inside_a_sentence_is_not_a_prefix(line):
    assert pieces(line) == [("text", line)]


_PREFIX_CHARS = list("标题名称篇目文章本【】[]|｜：: \t\u3000\n—-作者日期x同志们。") + [
    "标题：", "名称：", "篇名", "题目", "——", "\n【标题】", "\u2028"]


@given(st.lists(st.sampled_from(_PREFIX_CHARS), max_size=50))
@example(["x\n", "名称：", "会议纪要 |", "正文"])
@example(["【某网】", "篇名", "：讲话 |"])
@example(["【本】文章"])
@settings(max_examples=500, deadline=None)
def test_the_prefix_pattern_searched_line_by_line_finds_what_a_whole_text_search_finds(chars):
    text = "".join(chars)
    pattern = dict(_PATTERNS)["prefix"]
    assert [m.span() for m in _prefix_matches(pattern, text)] == [m.span() for m in pattern.finditer(text)]


# Written to start with a character set or a choice of literals (which `re` skips ahead to),
# these patterns match what their plain forms match: on drawn text, and on runs just below, at
# and just above their bounds.
_PLAIN = {
    "separator": (r"[|｜_＿\-—=*#~·•・]{4,}", list("|｜_＿-—=*#~·•・甲 \n"),
                  "甲___甲____甲_____甲\n----\n" + "—" * 3 + "甲"),
    "code": (r"[^\u3400-\u9fff\u3000-\u303f\uff00-\uffef\n]{40,}",
             ["a", "{", " ", "甲", "\u3000", "，", "\n", "x=1;" * 5, "a" * 39],
             "甲" + "a" * 39 + "甲" + "a" * 40 + "甲" + "a" * 41 + "甲\n" + "a" * 39 + "甲\n" + "b" * 40),
    "prefix line": (r"标题|题目|篇名|名称|[\[【]", list("标题目篇名称[]【】甲\n"), "【本】文章\n标题名称题目篇名[x]"),
}


def _fast(name: str):
    from classifier.segment import _PREFIX_LINE_CHARS

    return _PREFIX_LINE_CHARS if name == "prefix line" else dict(_PATTERNS)[name]


@pytest.mark.parametrize("name", sorted(_PLAIN))
@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_candidate_patterns_match_their_plain_forms(name, data):
    import re

    plain, alphabet, edges = _PLAIN[name]
    text = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=120))) + edges
    assert [m.span() for m in _fast(name).finditer(text)] == [m.span() for m in re.finditer(plain, text)]


_LINE_PIECES = ["甲乙丙丁", "。", "，", " ", "\u3000", "  ", "标题：", "|", "上一篇：", "……(省略979字)……", "www.x.com",
                "同志们", "abc", "甲" * 40, "丁" * 90, "。" * 3]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_LINE_PIECES), max_size=30).map("".join), max_size=12))
@example(["丁" * 360 + "。 甲乙丙丁", "", "甲乙丙丁 " + "丁" * 90])  # a paragraph break; a heading glued on
def test_units_are_the_segments_split_line_gives_every_line(lines):
    """units() takes a short cut for most lines; each line's units must be what split_line gives
    it, with the candidate spans the document's scan found in it."""
    from bisect import bisect_right
    from itertools import accumulate

    from classifier.segment import _scan

    ends = list(accumulate(len(line) + 1 for line in lines))
    spans: dict[int, list] = {}
    for start, stop, kind in _scan("\n".join(lines)):
        i = bisect_right(ends, start)
        if i < len(lines):
            offset = ends[i] - len(lines[i]) - 1
            spans.setdefault(i, []).append((start - offset, min(stop - offset, len(lines[i])), kind))
    expected = []
    for i, line in enumerate(lines):
        if line.strip():
            segments = split_line(line, spans.get(i, []))
            expected += [(i, start, stop, kind, part, len(segments)) for part, (start, stop, kind) in enumerate(segments)]
    assert [tuple(u) for u in units(lines)] == expected
