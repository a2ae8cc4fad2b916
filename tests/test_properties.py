"""Rules that hold for every text: the filter keeps body segments as they stood, labels tile every
line, labeling is deterministic, and the CLI reads and writes any text without failing.

`make test` runs a modest number of examples per property (profile `properties`). `make fuzz`
runs the same properties under the `fuzz` profile (`HYPOTHESIS_PROFILE=fuzz`): `FUZZ_EXAMPLES`
examples each, generated from `FUZZ_SEED`, with no example database, so a run is reproducible.
Examples found by fuzzing stay here as `@example`s.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

from classifier import artifacts
from classifier.errors import InputError
from classifier.filtering import LineLabel, body_text
from classifier.reading import _looks_binary, decode, normalize_newlines
from classifier.segment import split_lines

ROOT = Path(__file__).resolve().parent.parent
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("properties", max_examples=20, deadline=None, suppress_health_check=_SLOW)
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "3000")), deadline=None,
                          database=None, suppress_health_check=_SLOW)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "properties"))
LABELS = ("body", "chrome", "spam")

# --- text: realistic fragments composed with arbitrary characters ----------------------------

# The line model is `text.split("\n")` after universal newlines: these are line breaks...
LINE_BREAKS = ["\n", "\n", "\n", "\r\n", "\r"]
# ...and these, which str.splitlines() would also break at, are characters inside a line.
NOT_LINE_BREAKS = ["\x00", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029"]
ODD = NOT_LINE_BREAKS + [
    "\ud800", "\udbff", "\udc80", "\udfff", "\ud83d", "\ude00",  # lone surrogates (JSON can carry them)
    "\u0301", "e\u0301\u0301", "\u20dd", "\u200b", "\u200d", "\ufeff", "\u3000", "\xa0", "\t", "\x7f", "\x02\x03\x04",
    "😀", "👨\u200d👩\u200d👧", "🇨🇳", "\U00020000", "ＡＢＣ", "１２３", "！？", "（", "）", "，", "。", "ﷺ", "İ", "ß",
]
# Invented chrome and spam, in the shapes the segmenter cuts at.
CHROME = [
    "上一篇：", "下一篇：关于做好防汛工作的通知", "相关栏目：", "本文链接：", "……(省略800字)……",
    "……(未完，全文共3200字，登录后阅读)……", "(正式会员可完整阅读)", "【xx网 www.x.com】",
    "[找范文 到某某网-www.example.com-站点]", "首页 > 范文 > 讲话稿", "首页 | 范文大全 | 讲话稿",
    "|", " | ", "——————", "----", "____", "====", "***", "·····",
    "标题：", "标题：在全县大会上的讲话 |", "【关键词】", "[范文]", "5 S& V `* V' e! a( t( S6 X/ i",
    "p { color: #000; line-height: 115%; } a:link { so-language: zxx }", "版权所有 © 2020 某某网 京ICP备12345678号",
    "发布时间：2021-05-12 10:23 来源：本站 浏览：123次", "http://www.example.com/a.html", "扩展阅读", "相关文章",
    "下面是小编为大家整理的范文，仅供参考。", "1、", "第一章", "（一）", "①", "• ", "&nbsp;", "<br>",
]
SPAM = [
    "澳门娱乐城,百家乐", "澳门某某娱乐城", "真人百家乐,时时彩开户,体育投注网,注册送彩金", "国产精品_久久久久_一区二区三区",
    "国产精品久久一区二区", "威尼斯人官网app注册", "葡京娱乐平台开户", "av", "AV在线观看", "代开发票",
]
TEXT = [
    "同志们：", "我们要进一步提高认识，切实加强领导，确保各项任务圆满完成。", "谢谢大家！", "一、统一思想，提高认识",
    "今天召开全体会议。", "會議指出，當前位置：首頁。", "執(zhí)行力們(men)", "在全县工作会议上的讲话", "2024年", "“", "”",
]
SPACES = [" ", "  ", "\t", "\u3000", "\u3000\u3000"]

any_char = st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs"]))
fragment = st.one_of(
    st.sampled_from(CHROME), st.sampled_from(SPAM), st.sampled_from(TEXT), st.sampled_from(ODD),
    st.sampled_from(SPACES), st.text(any_char, max_size=8),
)
line = st.lists(fragment, max_size=12).map("".join)
# Long lines: a page or a body on one line, chains of chrome, runs of one character.
long_line = st.builds(lambda piece, n: piece * n, st.lists(fragment, min_size=1, max_size=6).map("".join),
                      st.integers(10, 400))
huge_line = st.builds(lambda piece, n: piece * n, st.sampled_from(TEXT + CHROME + SPAM + ODD), st.integers(2000, 12000))


@st.composite
def texts(draw, max_lines: int = 25) -> str:
    """A page: lines of fragments (some long, a rare huge one), joined by any line break."""
    rows = draw(st.lists(st.one_of(line, line, line, long_line, st.just(""), st.text(any_char, max_size=40)),
                         max_size=max_lines))
    if draw(st.integers(0, 19)) == 0:
        rows.insert(draw(st.integers(0, len(rows))), draw(huge_line))
    breaks = [draw(st.sampled_from(LINE_BREAKS)) for _ in rows]
    return "".join(row + brk for row, brk in zip(rows, breaks))[: None if draw(st.booleans()) else -1]


def decoded(text: str) -> str:
    """The text as `classifier` sees it after reading: universal newlines."""
    return normalize_newlines(text)


# --- references, written independently of the library ----------------------------------------

def expected_body(lines: list[str], labels) -> str:
    """Body segments in order: a line's segments joined directly, lines by "\\n", blank lines
    (no body text but whitespace) dropped at both edges."""
    kept = []
    for number, text in enumerate(lines, 1):
        mine = sorted((item.start, item.end) for item in labels if item.line == number and item.label == "body")
        if mine:
            kept.append("".join(text[a:b] for a, b in mine))
    first = next((k for k, row in enumerate(kept) if row.strip()), len(kept))
    last = max((k for k, row in enumerate(kept) if row.strip()), default=-1)
    return "\n".join(kept[first : last + 1])


def is_subsequence(part: str, whole: str) -> bool:
    rest = iter(whole)
    return all(char in rest for char in part)


@pytest.fixture(scope="module")
def shipped():
    return artifacts.load()


@pytest.fixture(scope="module", params=["shipped", "tiny"])
def labeler(request, shipped):
    return shipped if request.param == "shipped" else request.getfixturevalue("tiny_model_labeler")


# --- the line model --------------------------------------------------------------------------

@PROFILE
@seed(FUZZ_SEED)
@given(texts())
def test_lines_are_split_at_universal_newlines_only(text):
    normal = decoded(text)
    lines = split_lines(normal)
    assert lines == normal.split("\n") and "\n".join(lines) == normal
    assert len(lines) == text.count("\n") + text.count("\r") - text.count("\r\n") + 1
    assert not any("\r" in row for row in lines)
    for char in NOT_LINE_BREAKS:  # kept inside their line
        assert sum(row.count(char) for row in lines) == text.count(char)
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # UTF-8 cannot hold lone surrogates
        data = text.encode("utf-8")
        if _looks_binary(data):  # mostly control bytes: refused as binary, by name
            with pytest.raises(InputError, match="looks like a binary file"):
                decode(data)
        else:
            assert decode(data) == decoded(text.removeprefix("\ufeff"))  # a leading BOM is dropped


# --- labels tile every line ------------------------------------------------------------------

@PROFILE
@seed(FUZZ_SEED)
@given(texts())
def test_every_line_is_labeled_once_by_segments_that_tile_it(labeler, text):
    lines = split_lines(decoded(text))
    labels = labeler.label_documents([lines])[0]
    assert sorted({item.line for item in labels}) == list(range(1, len(lines) + 1))
    assert labels == sorted(labels, key=lambda item: (item.line, item.start))  # the order `label` prints
    for number, row in enumerate(lines, 1):
        spans = sorted((item.start, item.end) for item in labels if item.line == number)
        assert spans[0][0] == 0 and spans[-1][1] == len(row)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # no gap, no overlap
        assert len(spans) == 1 or all(a < b for a, b in spans)  # no empty segment in a cut line
    for item in labels:
        assert item.label in LABELS
        assert 0.0 <= item.score <= 1.0  # also false for NaN


# --- the filter keeps body segments as they stood --------------------------------------------

@PROFILE
@seed(FUZZ_SEED)
@given(texts())
@example("标题\ud800\n同志们：今天召开会议。\udfff\n")  # lone surrogates reached OpenCC and rjieba
def test_filter_output_is_the_body_segments_in_order(labeler, text):
    normal = decoded(text)
    lines = split_lines(normal)
    labels = labeler.label_documents([lines])[0]
    body = body_text(lines, labels)
    assert body == expected_body(lines, labels)
    assert is_subsequence(body, normal)
    assert labeler.filter(normal) == body


# --- determinism -----------------------------------------------------------------------------

@PROFILE
@seed(FUZZ_SEED)
@given(st.lists(texts(max_lines=12), min_size=1, max_size=4), st.data())
def test_labels_do_not_depend_on_the_run_or_the_batch(labeler, pages, data):
    documents = [split_lines(decoded(text)) for text in pages]
    batch = labeler.label_documents(documents, repeats=None)
    assert labeler.label_documents(documents, repeats=None) == batch
    k = data.draw(st.integers(0, len(documents) - 1))
    assert labeler.label_documents([documents[k]], repeats=None)[0] == batch[k]
    assert labeler.label_documents(documents[::-1], repeats=None) == batch[::-1]


# --- the CLI writes any text -----------------------------------------------------------------
# Input files are bytes, so lone surrogates reach the CLI only through an input decoded with an
# escape codec (as here: --encoding unicode_escape reads back any Python string), JSON input, or
# a file name that is not UTF-8. JSONL output escapes them; plain text writes them with
# surrogatepass (see cli.py).

from typer.testing import CliRunner  # noqa: E402

from classifier.cli import app  # noqa: E402


def run_cli(*args, input: bytes | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def records_of(stdout: bytes) -> list[dict]:
    return [json.loads(row) for row in stdout.decode("utf-8").splitlines()]  # strict: JSONL is valid UTF-8


@PROFILE
@seed(FUZZ_SEED)
@given(texts(max_lines=12))
@example("标题\ud800\n同志们：今天召开全体会议，部署工作。\udfff\ud83d\n")
def test_cli_filter_and_label_write_any_text(shipped, text):
    data = text.encode("unicode_escape")
    lines = split_lines(decoded(text))
    labels = shipped.label_documents([lines])[0]
    body = body_text(lines, labels)
    result = run_cli("filter", "--encoding", "unicode_escape", input=data)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == ((body + "\n") if body else "").encode("utf-8", "surrogatepass")
    result = run_cli("label", "--format", "jsonl", "--encoding", "unicode_escape", input=data)
    assert result.exit_code == 0, result.output
    records = records_of(result.stdout_bytes)
    assert [(r["line"], r["start"], r["end"], r["label"], r["score"]) for r in records] == [
        (item.line, item.start, item.end, item.label, item.score) for item in labels]


PAGES = {  # invented pages in the shapes above, each with something awkward
    "controls.txt": "首页 > 范文\n标题：会议讲话 |\x0b同志们：今天召开会议。\x00\x1c\x1d\x1e\n版权所有\x0c\u2028\u2029\x85",
    "crlf.txt": "上一篇：某某通知\r\n　　我们要进一步提高认识，切实加强领导……(省略800字)……确保各项任务圆满完成。\r谢谢大家！\r\n",
    "spam.txt": "国产精品_久久久久_一区二区三区_无码高清\n今天，澳门某某娱乐城召开全体会议，部署新学期工作。\n",
    "long.txt": "我们要进一步提高认识，切实加强领导。　　" * 900 + "【xx网 www.x.com】",
    "emoji.txt": "😀👨\u200d👩\u200d👧e\u0301\u0301ＡＢＣ１２３\n執(zhí)行力們(men)的發(fā)展。\n\ufeff\n",
}


def test_cli_end_to_end_on_awkward_pages(tmp_path, shipped):
    import subprocess
    import sys

    pages = tmp_path / "pages"
    pages.mkdir()
    for name, text in PAGES.items():
        (pages / name).write_bytes(text.encode("utf-8"))
    (pages / "gbk.txt").write_bytes(PAGES["crlf.txt"].encode("gb18030"))
    (pages / "utf16.txt").write_bytes(PAGES["spam.txt"].encode("utf-16"))
    odd_name = os.fsdecode(b"\xb9\xab\xb8\xe6.txt")  # a GBK file name: not UTF-8
    try:
        (pages / odd_name).write_bytes(PAGES["spam.txt"].encode("utf-8"))
    except OSError:  # a file system that takes only UTF-8 names
        odd_name = None
    escaped = tmp_path / "escaped.txt"  # lone surrogates, read back with --encoding unicode_escape
    escaped.write_bytes("标题\ud800\n同志们：今天召开全体会议，部署工作。\udfff\ud83d\n".encode("unicode_escape"))

    def cli(*args):
        # Strict UTF-8 on stdout, as in a UTF-8 locale.
        done = subprocess.run([sys.executable, "-m", "classifier", *map(str, args), "--no-repeats"], cwd=ROOT,
                              capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        return done.stdout

    files = sorted(pages.iterdir())
    texts_ = [decode(path.read_bytes()) for path in files]
    texts_.append(decode(escaped.read_bytes(), encoding="unicode_escape"))
    bodies = [shipped.filter(text) for text in texts_]
    out = cli("filter", pages) + cli("filter", escaped, "--encoding", "unicode_escape")
    assert out == "".join(body + "\n" for body in bodies if body).encode("utf-8", "surrogatepass")
    records = records_of(cli("label", pages, "--format", "jsonl")) + records_of(
        cli("label", escaped, "--format", "jsonl", "--encoding", "unicode_escape"))
    paths = [str(path) for path in files] + [str(escaped)]

    def shown(path: str) -> str:  # file name bytes that are not UTF-8 are shown as \xNN
        return os.fsencode(path).decode("utf-8", "backslashreplace")

    assert sorted({r["path"] for r in records}) == sorted(shown(p) for p in paths)
    if odd_name:
        assert shown(str(pages / odd_name)).endswith("\\xb9\\xab\\xb8\\xe6.txt")
    for path, text, body in zip(paths, texts_, bodies):
        lines = split_lines(text)
        mine = [r for r in records if r["path"] == shown(path)]
        assert [r["line"] for r in mine] == sorted(r["line"] for r in mine)
        assert {r["line"] for r in mine} == set(range(1, len(lines) + 1))
        labels = [LineLabel(r["line"], r["label"], r["score"], r["start"], r["end"]) for r in mine]
        assert expected_body(lines, labels) == body
