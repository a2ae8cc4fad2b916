from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import artifacts
from classifier.filtering import Kept, LineLabel, body_text, keep, trim_blank_lines


def test_body_text_keeps_body_segments_in_order():
    lines = ["导航", "标题", "", "正文。", "版权"]
    labels = [LineLabel(1, "chrome", 1, 0, 2), LineLabel(2, "body", 1, 0, 2), LineLabel(3, "body", 1, 0, 0),
              LineLabel(4, "body", 1, 0, 3), LineLabel(5, "chrome", 1, 0, 2)]
    assert body_text(lines, labels) == "标题\n\n正文。"


def test_segments_of_a_line_join_directly():
    lines = ["正文前半（广告）正文后半"]
    labels = [LineLabel(1, "body", 1, 0, 4), LineLabel(1, "chrome", 1, 4, 8), LineLabel(1, "body", 1, 8, 12)]
    assert body_text(lines, labels) == "正文前半正文后半"


def test_keep_gives_the_body_and_the_counts_a_run_prints():
    lines = ["导航", "", "标题", "正文前半（广告）正文后半", "   ", "正文。", "彩票 娱乐", "版权"]
    labels = [LineLabel(1, "chrome", 1, 0, 2), LineLabel(2, "chrome", 1, 0, 0), LineLabel(3, "body", 1, 0, 2),
              LineLabel(4, "body", 1, 0, 4), LineLabel(4, "chrome", 1, 4, 8), LineLabel(4, "body", 1, 8, 12),
              LineLabel(5, "body", 1, 0, 3), LineLabel(6, "body", 1, 0, 3), LineLabel(7, "spam", 1, 0, 5),
              LineLabel(8, "chrome", 1, 0, 2)]
    # Blank lines count neither as kept nor as dropped; the line with a notice cut out counts as both.
    kept = keep(lines, labels)
    assert kept == Kept("标题\n正文前半正文后半\n   \n正文。", 3, 6, 8, 3, {"chrome": 3, "spam": 1})
    assert kept.body == body_text(lines, labels) == "标题\n正文前半正文后半\n   \n正文。"
    none = keep(lines, labels[:2] + [LineLabel(k, "chrome", 1, 0, len(lines[k - 1])) for k in range(3, 9)])
    assert none == Kept("", 0, 0, 8, 0, {"chrome": 6}) and none.body == ""
    # Blank body lines at the ends stay in `text` (for the parts of a giant input), not in `body`.
    edges = keep(["  ", "正文", "", "x"], [LineLabel(1, "body", 1, 0, 2), LineLabel(2, "body", 1, 0, 2),
                                          LineLabel(3, "body", 1, 0, 0), LineLabel(4, "chrome", 1, 0, 1)])
    assert edges == Kept("  \n正文\n", 1, 3, 4, 1, {"chrome": 1}) and edges.body == "正文"


@given(st.lists(st.text(alphabet=" \u3000\t正文x", max_size=12), max_size=8))
@settings(max_examples=300, deadline=None)
def test_trim_blank_lines_drops_the_blank_lines_at_the_ends_only(lines):
    out = list(lines)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    assert trim_blank_lines("\n".join(lines)) == "\n".join(out)



def test_filter_drops_chrome_and_spam(tiny_model, sample_page):
    labeler = artifacts.load(tiny_model)
    body = labeler.filter(sample_page)
    assert "同志们：" in body and "谢谢大家！" in body
    assert "ICP" not in body and "首页" not in body and "国产" not in body and "澳门" not in body


lines_strategy = st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30), max_size=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(lines_strategy)
def test_every_line_labeled_once_and_output_is_a_subsequence_of_lines(tiny_model_labeler, lines):
    text = "\n".join(lines)
    labels = tiny_model_labeler.label(text)
    lines = text.split("\n")
    assert sorted({item.line for item in labels}) == list(range(1, len(lines) + 1))
    for n, line in enumerate(lines, 1):  # a line's segments tile it
        spans = [(item.start, item.end) for item in labels if item.line == n]
        assert spans[0][0] == 0 and spans[-1][1] == len(line)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(item.label in ("body", "chrome", "spam") and 0 <= item.score <= 1 for item in labels)
    kept = body_text(text.split("\n"), labels).split("\n") if labels else []
    source = iter(text.split("\n"))
    assert all(any(k == line for line in source) for k in kept if k)
    assert tiny_model_labeler.label(text) == labels


def test_pasted_notice_is_cut_out_of_a_body_line(tiny_model):
    labeler = artifacts.load(tiny_model)
    notice = "……(示例文秘网http://www.example.cn省略812字,正式会员可完整阅读)……"
    first, second = "　　我们要进一步提高认识，切实加强领导，", "确保各项任务圆满完成。"
    page = "\n".join(["首页 | 范文大全 | 讲话稿", "在全县工作会议上的讲话", "同志们：", first + notice + second,
                     "　　各乡镇要认真抓好落实，推动工作再上新台阶。", "谢谢大家！", "版权所有 © 示例文秘网"])
    labels = labeler.label(page)
    pieces = [(item.label, page.split("\n")[3][item.start : item.end]) for item in labels if item.line == 4]
    assert ("chrome", notice) in pieces
    assert first + second in labeler.filter(page).split("\n")
