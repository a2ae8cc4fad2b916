import zlib

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from classifier.features import (
    LEAD_CHARS,
    SHALLOW_NAMES,
    FeatureSettings,
    _class_counts,
    _words,
    dense_names,
    feature_rows,
    featurize,
    hashed,
    shallow,
    window,
)

SETTINGS = FeatureSettings(n_features=2**14)


def row(lines, k, settings=SETTINGS):
    X, docs = featurize([lines], settings)
    return X[k].toarray().ravel(), docs[0]


def test_rows_for_text_lines_only_and_width():
    lines = ["首页 | 新闻", "", "同志们：", "  ", "今天召开会议。"]
    X, docs = featurize([lines], SETTINGS)
    assert [u.line for u in docs[0].units] == [0, 2, 4]
    assert X.shape == (3, SETTINGS.n_features + len(dense_names(SETTINGS)))


def test_batch_rows_equal_single_document_rows():
    a = ["首页 | 新闻", "同志们：", "今天召开会议。"]
    b = ["版权所有 © 2021", "", "上一篇：无"]
    X, _ = featurize([a, b], SETTINGS)
    Xa, _ = featurize([a], SETTINGS)
    Xb, _ = featurize([b], SETTINGS)
    assert np.allclose(X.toarray(), np.vstack([Xa.toarray(), Xb.toarray()]))


def named(values, name):
    return values[SHALLOW_NAMES.index(name)]


def test_shallow_patterns():
    url, icp, bullet, heading, sentence = shallow([
        "链接地址：http://www.example.cn/a/1.html",
        "京ICP备12345678号-1",
        "- 2021年工作总结...2021-08-27",
        "一、统一思想，提高认识",
        "今天，我们召开全县工作会议。",
    ])
    assert named(url, "has_url") == 1 and named(sentence, "has_url") == 0
    assert named(icp, "has_icp") == 1
    assert named(bullet, "bullet") == 1 and named(bullet, "trailing_date") == 1
    assert named(heading, "list_marker") == 1
    assert named(sentence, "ends_sentence") == 1 and named(heading, "ends_sentence") == 0
    assert named(sentence, "share_cjk") > 0.8


def test_pinyin_artifacts_do_not_change_shape():
    clean, marked = shallow(["执行力的发展。", "執(zhí)行（xíng）力的發(fā)展。"])
    assert named(marked, "share_latin") == 0 and np.allclose(clean, marked)


def test_full_width_digits_count_as_digits():
    a, b = shallow(["２０２１年１２月", "2021年12月"])
    assert named(a, "share_digit") == named(b, "share_digit") > 0


def test_traditional_and_pinyin_map_to_the_same_lexical_features():
    clean = hashed(["当前位置：首页 > 讲话稿"], SETTINGS).toarray()
    traditional = hashed(["當(dāng)前位置：首頁 > 講話稿"], SETTINGS).toarray()
    assert np.allclose(clean, traditional)


def test_long_line_reads_only_its_window():
    head, tail = SETTINGS.head_chars, SETTINGS.tail_chars
    long_line = "甲" * head + "乙" * 17000 + "丙" * tail
    assert window(long_line, SETTINGS) == window("甲" * head + "乙" * 3 + "丙" * tail, SETTINGS)
    a = hashed([long_line], SETTINGS).toarray()
    b = hashed(["甲" * head + "乙" * 100 + "丙" * tail], SETTINGS).toarray()
    assert np.allclose(a, b)


def test_neighbours_are_copied():
    lines = ["短", "今天召开会议，研究部署工作。", "版权所有"]
    values, _ = row(lines, 1)
    names = dense_names(SETTINGS)
    offset, one = SETTINGS.n_features, SETTINGS.dense_scale
    assert values[offset + names.index("prev1:exists")] == one
    assert values[offset + names.index("prev2:exists")] == 0
    assert values[offset + names.index("next1:len_le6")] == one


def test_settings_round_trip():
    assert FeatureSettings.from_dict(SETTINGS.to_dict()) == SETTINGS


def test_numpy_scores_equal_the_sparse_product_exactly():
    lines = ["首页 | 新闻", "", "同志们：今天召开会议。", "版权所有 © 2021 京ICP备123号", "今天召开会议。" * 40]
    rows, _ = featurize([lines, ["上一篇：无", "正文二。"]], SETTINGS)
    numpy_rows, _ = feature_rows([lines, ["上一篇：无", "正文二。"]], SETTINGS)
    coef = np.random.default_rng(0).normal(size=(3, rows.shape[1])).astype(np.float32)
    assert numpy_rows.shape == rows.shape
    assert np.array_equal(numpy_rows.dot(coef), np.asarray(rows @ coef.T))


def test_scores_are_summed_in_float64_whatever_the_dense_blocks_type():
    from classifier.features import FeatureRows

    rng = np.random.default_rng(1)
    dense = rng.normal(size=(50, 7)).astype(np.float32)
    coef = rng.normal(size=(3, 10 + 7)).astype(np.float32)
    none = np.zeros(0, dtype=np.int64)
    as32 = FeatureRows(none, none, np.zeros(0), dense, 10).dot(coef)
    assert as32.dtype == np.float64
    assert np.array_equal(as32, FeatureRows(none, none, np.zeros(0), dense.astype(np.float64), 10).dot(coef))


def test_word_columns_are_crc32_of_each_heads_words():
    from classifier.words import cut

    heads = ["同志们：今天开会", "", "执行 ab c", "𠀀字—…", "同志们：今天开会", "a" * 30]
    rows, cols = _words(heads, SETTINGS)
    expected = [(k, zlib.crc32(("w\x00" + w).encode("utf-8")) % SETTINGS.n_features)
                for k, head in enumerate(heads) for w in cut(head) if len(w) > 1 or "\u3400" <= w <= "\u9fff"]
    assert list(zip(rows.tolist(), cols.tolist())) == expected


def _page_column(lines, name):
    _, docs = featurize([lines], SETTINGS)
    return docs[0].dense[:, dense_names(SETTINGS).index(name)].tolist()


def test_units_above_the_opening_salutation_are_marked_and_paragraphs_among_them_too():
    lead = "　　安全生产是经济社会发展的基础，各地要把安全发展理念落实到每一个环节，坚决防范重大事故发生。"
    lines = ["首页 > 讲话稿", lead, "在全市安全生产会议上的讲话", "同志們：", "　　今天召开会议。",
             "　　一要压实责任。", "　　二要加强检查。", "　　三要抓好落实。", "　　四要严格考核。"]
    assert _page_column(lines, "before_salutation") == [1, 1, 1] + [0] * 6
    assert _page_column(lines, "before_salutation_long") == [0, 1, 0] + [0] * 6


def test_a_colon_heading_that_names_no_addressee_is_no_salutation():
    paragraph = "　　各乡镇、各部门要立即组织力量，对辖区内的河道、水库和地质灾害隐患点开展拉网式排查，确保安全度汛。"
    lines = ["首页 > 通知", "关于做好防汛工作的通知", paragraph, "大家都在看：", "领导讲话：", "各位领导：",
             "　　一年来的工作。", "　　二是加强学习。", "　　三是改进作风。", "　　四是狠抓落实。", "　　五是严守纪律。"]
    assert _page_column(lines, "before_salutation") == [1] * 5 + [0] * 6


def test_a_salutation_late_in_the_page_does_not_open_the_document():
    lines = ["首页", "工作总结", "　　一年来，我们完成了各项任务。", "　　二是加强学习。", "　　三是改进作风。",
             "　　四是狠抓落实。", "各位领导：", "　　以上是我的总结。"]
    assert _page_column(lines, "before_salutation") == [0] * 8


def test_a_page_title_over_the_documents_own_title_is_marked_on_both():
    lines = ["首页 > 文学百科", "校长在本科生毕业典礼上讲话", "时间：2020-09-22 来源：本站", "校长在本科生毕业典礼上的讲话",
             "各位老师：", "　　对一所大学来说，每年的这个季节，既是收获的季节，也是别离的季节。"]
    assert _page_column(lines, "like_title_below") == [0, 1, 0, 0, 0, 0]
    assert _page_column(lines, "like_title_above") == [0, 0, 0, 1, 0, 0]


def test_unlike_or_distant_titles_are_not_marked():
    lines = ["校长在本科生毕业典礼上的讲话", "一、明确目标", "二、强化责任", "三、狠抓落实", "四、加强考核",
             "校长在本科生毕业典礼上的讲话"]
    assert _page_column(lines, "like_title_below") == [0] * 6


def test_a_collection_part_heading_before_its_text_is_marked_and_one_in_a_contents_list_is_not():
    lines = ["年终总结（通用3篇）", "篇一：车间主任年终总结", "篇二：财务科长年终总结", "【篇三】班组长年终总结",
             "年终总结 篇1", "各位领导：",
             "　　一年来，在公司的领导下，我带领车间全体员工完成了全年生产任务，产量比去年增长一成。",
             "第二篇 财务科长年终总结",
             "　　今年财务科围绕预算管理、成本控制和资金安全三件事开展工作，年初确定的各项指标全部完成。"]
    # "【篇三】" is cut from the title it is glued to: a unit of its own.
    assert _page_column(lines, "part_heading") == [0, 1, 1, 1, 0, 1, 0, 0, 1, 0]
    assert _page_column(lines, "part_heading_before_text") == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0]


def test_a_part_heading_at_the_end_of_a_page_has_no_text_after_it():
    text = "　　各单位要认真做好防汛准备，落实责任，确保安全度汛，发现险情及时报告处置，汛期结束后报送总结。"
    pages = [["通知（精选2篇）", "篇一"], [text]]
    assert len(pages[1][0].strip()) >= LEAD_CHARS  # text that would follow the heading, were it on the same page
    _, docs = featurize(pages, SETTINGS)
    column = dense_names(SETTINGS).index("part_heading_before_text")
    assert docs[0].dense[:, column].tolist() == [0, 0]


def test_a_preview_that_copies_the_documents_opening_is_marked_and_the_document_is_not():
    opening = "　　今年以来，我们坚持稳中求进工作总基调，统筹推进各项工作，全县经济运行总体平稳、稳中有进。"
    preview = "简介：2024年上半年工作总结 今年以来，我们坚持稳中求进工作总基调，统筹推进各项工作，全县经济运行…"
    lines = ["首页 > 工作总结", preview, "2024年上半年工作总结", opening,
             "　　一是项目建设加快推进。全年安排重点项目一百二十个，已开工一百零五个。"]
    assert _page_column(lines, "copied_below") == [0, 1, 0, 0, 0]


def test_a_paragraph_that_does_not_stand_again_below_is_not_a_preview():
    lines = ["首页", "　　今年以来，我们坚持稳中求进工作总基调，统筹推进各项工作，全县经济运行总体平稳、稳中有进。",
             "　　一是项目建设加快推进。全年安排重点项目一百二十个，已开工一百零五个，完成投资超过年度计划。",
             "　　今年以来，我们坚持"]
    assert _page_column(lines, "copied_below") == [0, 0, 0, 0]


def test_recurring_units_get_the_features_they_would_get_alone(monkeypatch):
    from classifier import features

    nav = ["首页 | 新闻 | 通知", "版权所有 © 2021 京ICP备123号"]
    pages = [nav[:1] + [f"　　第{k}次会议今天召开，会议研究了有关工作。", "同志们："] + nav[1:] for k in range(5)]
    assert len(features._distinct([t for p in pages for t in p])[0]) == 8  # nav, footer, salutation, 5 texts
    shared, _ = feature_rows(pages, SETTINGS)
    monkeypatch.setattr(features, "_distinct", lambda texts: (list(texts), np.arange(len(texts))))
    alone, _ = feature_rows(pages, SETTINGS)
    for name in ("rows", "columns", "values", "dense"):
        assert np.array_equal(getattr(shared, name), getattr(alone, name)), name


def _classes_by_hand(text: str) -> list[int]:
    """Counts of CJK, Latin, digit, space, other, sentence-end and comma characters, one
    character at a time (full-width ASCII as its ASCII character)."""
    counts = [0] * 7
    for char in text:
        code = ord(char)
        if 0xFF01 <= code <= 0xFF5E:
            char = chr(code - 0xFEE0)
        if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff":
            counts[0] += 1
        elif "a" <= char.lower() <= "z" and char.isascii():
            counts[1] += 1
        elif "0" <= char <= "9":
            counts[2] += 1
        elif char in " \t\u3000\u00a0\u2002\u2003\u200b\ufeff":
            counts[3] += 1
        else:
            counts[4] += 1
        counts[5] += char in "。!?;…"
        counts[6] += char in ",、，"
    return counts


@given(st.lists(st.text(st.one_of(st.sampled_from(list("中文，。、！？；,.!?;…ａＺ１ \t\u3000\u00a0\u200b\ufeff\ufaff\u3400xK9")),
                                  st.characters(exclude_categories=("Cs",))), max_size=30), min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_character_classes_by_table_equal_a_count_by_hand(texts):
    assert _class_counts(texts).tolist() == [_classes_by_hand(t) for t in texts]


def _entries_by_hand(texts, settings):
    """hashed_entries computed text by text in plain Python: multiply-xor n-gram hashes and crc32 words."""
    import math

    from classifier.lexical import END, GAP, _windows
    from classifier.normalize import normalize
    from classifier.words import cut

    mask, mix = 2**64 - 1, 0x9E3779B97F4A7C15
    width = settings.n_features
    out = []
    for k, text in enumerate(texts):
        norm = normalize(_windows([text], settings)[0])
        counts = {}
        for n in range(1, settings.ngram_max + 1):
            for i in range(len(norm) - n + 1):
                if n == 1 and ord(norm[i]) <= 4:
                    continue
                h = n
                for c in norm[i : i + n]:
                    h = ((h ^ ord(c)) * mix) & mask
                h ^= h >> 31
                counts[h % width] = counts.get(h % width, 0) + 1
        head = norm[1 : settings.word_chars + 1].split(GAP)[0].rstrip(END)
        for w in cut(head):
            if len(w) > 1 or "\u3400" <= w <= "\u9fff":
                col = zlib.crc32(("w\x00" + w).encode("utf-8")) % width
                counts[col] = counts.get(col, 0) + 1
        length = math.sqrt(min(sum(c * c for c in counts.values()), settings.norm_cap)) or 1.0
        out += [(k, col, (1.0 / length) * counts[col]) for col in sorted(counts, reverse=True)]
    return out


@pytest.mark.parametrize(("width", "count"), [(2**18, 7), (1000, 7), (2**31, 7), (2**31, 2), (2**31, 3)])
def test_hashed_entries_equal_a_count_by_hand(width, count):
    """Power-of-two widths (columns by mask), others (by modulo), keys that just fit in 32 bits
    (2 texts of 2**31 columns) and keys that do not (3 texts) give the entries of a count by hand."""
    from dataclasses import replace

    from classifier.lexical import hashed_entries

    settings = replace(SETTINGS, n_features=width)
    texts = ["首页 | 新闻中心", "同志们：今天召开会议，研究部署工作。" * 12, "", "上传者：abc 2021-01-01",
             "𠀀字—…\u3000x", "首页 | 新闻中心", "a"]
    texts = texts[-count:]  # keys lie below count * width: 2**32 for 2 texts of 2**31 columns
    rows, cols, values = hashed_entries(texts, settings)
    assert list(zip(rows.tolist(), cols.tolist(), values.tolist())) == _entries_by_hand(texts, settings)


_ODD_SPACES = ["\u3000", "\t", "\x1c", "\x85", "\u2028", "\xa0"]
_PAGE_TEXT = st.text(alphabet=st.sampled_from(list("会议工作研究部署简介：:，。ab ") + _ODD_SPACES), max_size=80)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PAGE_TEXT, max_size=60), st.data())
def test_preview_check_removes_exactly_the_whitespace_a_regex_would(units, data):
    """_copied_below squeezes with str.split(), which must remove what r"\\s+" removes."""
    import re

    from classifier import features

    # Long units near the top whose opening words stand below with no whitespace at all, or
    # with other whitespace: only removing exactly what r"\s" matches finds them in both cases.
    for k in data.draw(st.lists(st.integers(0, 59), max_size=5)):
        if k < len(units) - 1:
            units[k] = units[k] * 3 + "简介：" + units[k]
            units[k + 1] = data.draw(st.sampled_from(["", " ", "\u2028"])).join(re.sub(r"\s+", "", units[k]))
    stripped = [u.strip() for u in units]

    def by_regex(stripped):
        out = [False] * len(stripped)
        heads = [k for k, s in enumerate(stripped[: features.COPY_UNITS]) if len(s) >= features.COPY_CHARS]
        squeezed = [re.sub(r"\s+", "", s[: features.COPY_READ]) for s in stripped[: features.COPY_UNITS + 20]]
        joined = "".join(squeezed)
        for k in heads:
            key = features._COPY_LABEL.sub("", squeezed[k])[: features.COPY_KEY]
            start = sum(map(len, squeezed[: k + 1]))
            out[k] = len(key) == features.COPY_KEY and key in joined[start : start + features.COPY_READ + len(squeezed[k])]
        return out

    assert features._copied_below(stripped) == by_regex(stripped)


_COLLECTED_WORDS = ["整理", "收集", "精选", "搜集", "带来", "分享"]
_PLAIN_FORMS = {
    "TIME": (r"\d{1,2}:\d{2}", list("0123456789:：甲 ٣５") + ["12:30"], "\n9:05 12:30:1 ٣:٤٥ ５:５５ 123:4"),
    "EDITOR_NOTE": (r"小编|仅供参考|仅供大家参考|欢迎阅读|欢迎借鉴|希望对(?:你|您|大家)有所帮助|"
                    r"一起来看看吧|一起来看看|让我们一起|(?:以下|下面)(?:是|就是|为)[^。！？!?]{0,30}(?:整理|收集|精选|搜集|带来|分享)",
                    ["以下", "下面", "是", "就是", "为", "小编", "甲", "。", "!", "\n", "甲" * 29] + _COLLECTED_WORDS,
                    "\n".join(f"{lead}{verb}{'甲' * gap}{word}" for lead in ("以下", "下面") for verb in ("是", "就是", "为")
                              for gap in (0, 29, 30, 31) for word in _COLLECTED_WORDS)
                    + "\n下面就是甲整理\n以下为小编分享\n希望对您有所帮助"),
}


@pytest.mark.parametrize("name", sorted(_PLAIN_FORMS))
@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_fast_patterns_match_their_plain_forms(name, data):
    """Written so that `re` skips ahead to where they can match, these patterns match what their
    plain forms match: on drawn text, and on matches at and around their bounds."""
    import re

    from classifier import features

    plain, alphabet, edges = _PLAIN_FORMS[name]
    text = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=60))) + "\n" + edges
    fast = getattr(features, name)
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in re.finditer(plain, text)]
    if name == "EDITOR_NOTE":  # and its form for windows joined by newlines, per window
        multi = features._EDITOR_NOTE_M
        assert [m.span() for m in multi.finditer(text)] == [
            m.span() for m in re.finditer(plain.replace("[^。！？!?]", "[^。！？!?\n]"), text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab首页", min_size=0, max_size=12), max_size=30))
@example(["首页首页首页"] + ["b"] * 199 + ["首页首页"])  # past the units read, inside one: overlapping only
def test_text_elsewhere_on_the_page_means_two_disjoint_occurrences(units):
    """_elsewhere finds a second occurrence with str.find; it must agree with str.count > 1."""
    from classifier.features import ELSEWHERE_CHARS, ELSEWHERE_UNITS, _elsewhere

    lo, hi = ELSEWHERE_CHARS
    joined = "\n".join(s[:200] for s in units[:ELSEWHERE_UNITS])
    assert _elsewhere(units) == [lo <= len(s) <= hi and joined.count(s) > 1 for s in units]
