import json

import pytest

from classifier.corpus import (
    load_documents,
    load_labeled,
    parse_gold,
    parse_labeled,
    parse_mixed,
)
from classifier.errors import LabeledFormatError


def test_parse_rows_and_body():
    content = "# url: http://x.example/1\nchrome\t首页 | 新闻\n\nbody\t标题\n\t\u3000\nbody\t\u3000\u3000正文\tA\n"
    doc, problems = parse_labeled(content, "s/d.tsv", "s")
    assert problems == []
    assert doc.lines == ["首页 | 新闻", "", "标题", "\u3000", "\u3000\u3000正文\tA"]
    assert doc.labels == ["chrome", None, "body", None, "body"]
    assert doc.body == "标题\n\u3000\u3000正文\tA"


def test_mixed_line_spans_tile_the_line():
    plain, pieces = parse_mixed("会议强调⟦chrome:（本文来自示例网）⟧要压实责任⟦spam:永利彩票⟧")
    assert plain == "会议强调（本文来自示例网）要压实责任永利彩票"
    assert [name for _, _, name in pieces] == ["body", "chrome", "body", "spam"]
    assert pieces[0][0] == 0 and pieces[-1][1] == len(plain)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))


def test_mixed_body_and_majority_label():
    doc, _ = parse_labeled("mixed\t正文很长很长很长很长⟦chrome:[示例网]⟧\n", "p", "s")
    assert doc.body == "正文很长很长很长很长"
    assert doc.line_label(0) == "body"


@pytest.mark.parametrize("row, message", [
    ("bodi\t正文", "unknown label 'bodi'"),
    ("正文没有标签", "expected LABEL<TAB>TEXT"),
    ("\t有字却无标签", "text without a label"),
    ("body\t正文⟦chrome:广告⟧", "span marks on a body line"),
    ("mixed\t正文⟦chrome:广告", "broken mixed-line mark"),
    ("mixed\t正文⟦ads:广告⟧", "broken mixed-line mark"),
    ("mixed\t只有正文", "no ⟦chrome:…⟧ or ⟦spam:…⟧ span"),
])
def test_malformed_rows_name_path_and_line(row, message):
    _, problems = parse_labeled(f"body\t标题\n{row}\n", "site/doc.tsv", "site")
    assert len(problems) == 1
    assert problems[0].startswith("site/doc.tsv:2: ") and message in problems[0]


def test_every_problem_in_every_file_is_listed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.tsv").write_text("body\t好\nxx\t坏\nyy\t坏\n", encoding="utf-8")
    (tmp_path / "a" / "2.tsv").write_text("body\t好\nmixed\t坏\n", encoding="utf-8")
    with pytest.raises(LabeledFormatError) as info:
        load_labeled(tmp_path)
    problems = info.value.problems
    assert [p.split(": ")[0].rsplit("/", 2)[-2:] for p in problems] == [["a", "1.tsv:2"], ["a", "1.tsv:3"], ["a", "2.tsv:2"]]


def test_sites_are_folders(corpus_dir):
    docs = load_labeled(corpus_dir)
    assert len(docs) == 20 and {d.site for d in docs} == {"site0", "site1", "site2", "site3"}


def test_gold_json(tmp_path):
    data = {"id": "x-1", "text": "导航\n\n正文。\n混合", "body": "正文。\n混",
            "lines": [{"n": 1, "label": "C"}, {"n": 2, "label": "I"}, {"n": 3, "label": "B"}, {"n": 4, "label": "M"}]}
    doc = parse_gold(data, "x-1.json")
    assert doc.labels == ["chrome", None, "body", "mixed"] and doc.site == "x" and doc.body == "正文。\n混"
    path = tmp_path / "x-1.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_documents([tmp_path])[0].lines == doc.lines


def test_bad_gold_entry_is_reported(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"text": "a", "lines": [{"n": 5, "label": "B"}]}), encoding="utf-8")
    with pytest.raises(LabeledFormatError, match="g.json:1: bad line entry"):
        load_documents([path])


def test_pattern_tags_and_segment_labels(tmp_path):
    from classifier.corpus import parse_labeled

    doc, problems = parse_labeled("# pattern: inline ad, one-line page\n# url: x\nmixed\t正文⟦chrome:[广告]⟧正文\n", "p.tsv", "s")
    assert not problems and doc.tags == ("inline ad", "one-line page")
    assert doc.segment_label(0, 0, 2) == "body"
    assert doc.segment_label(0, 2, 6) == "chrome"
    assert doc.segment_label(0, 1, 6) == "chrome"  # most of the characters


def test_gold_mixed_line_without_body_field_does_not_crash(tmp_path):
    import json

    from classifier.corpus import load_gold

    path = tmp_path / "page.json"
    path.write_text(json.dumps({"id": "x-1", "text": "首页\n同志们：今天开会。【本站广告】",
                                "lines": [{"n": 1, "label": "C"}, {"n": 2, "label": "M"}]}), encoding="utf-8")
    [doc] = load_gold([path])
    assert doc.labels == ["chrome", "mixed"] and doc.body == ""
