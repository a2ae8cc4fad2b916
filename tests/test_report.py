"""The HTML report of `classifier evaluate --report`: its numbers match the scores, every document
and every wrong line is in it, page text is escaped, and a headless browser renders it."""
from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import page, write_tsv
from typer.testing import CliRunner

from classifier.cli import app
from classifier.corpus import LABELS, Document, load_documents
from classifier.evaluation import score
from classifier.filtering import LineLabel
from classifier.repeats import RepeatCounter
from classifier.report import line_pieces, render

HOSTILE = [
    ("spam", "<script>alert('彩票')</script>澳门娱乐城 & 真人百家乐"),
    ("chrome", "首页 &gt; 公文 & 范文 > <b>讲话稿</b>"),
    ("", ""),
    ("body", "关于<script>标签 & “转义”的说明"),
    ("body", "　　各部门要把 A&B 两项工作抓实抓细，确保<按期>完成。"),
    ("mixed", "　　会议要求⟦chrome:（<i>示例网</i> & 更多）⟧压实责任，确保安全。"),
    ("body", "首页 | 范文大全 | 讲话稿 | 工作总结"),  # gold says body: the model will call it chrome
    ("chrome", "版权所有 © 2023 示例网 <a href=x>联系我们</a>"),
]
# A gold JSON page: a mixed line without spans and an unscored line are shown, not checked.
GOLD = {"id": "golden-1", "text": "网站首页 > 通知\n关于放假安排的通知\n各单位：五一放假五天。⟦不是标记⟧\n无关的一行\n",
        "body": "关于放假安排的通知\n各单位：五一放假五天。",
        "lines": [{"n": 1, "label": "C"}, {"n": 2, "label": "B"}, {"n": 3, "label": "M"}, {"n": 4, "label": "I"}]}


class ReportParser(HTMLParser):
    """What the tests read from a report: documents, wrong lines, confusion cells, tags, text."""

    def __init__(self):
        super().__init__()
        self.docs, self.wrong_lines, self.lines, self.confusion, self.tags, self.text = {}, 0, 0, {}, set(), []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self.tags.add(tag if tag != "a" or attrs.get("href", "").startswith("#doc-") else "a outside the index")
        if tag == "details" and "doc" in classes:
            self.docs[attrs["data-id"]] = int(attrs["data-errors"])
        if tag == "div" and "line" in classes:
            self.lines += 1
            self.wrong_lines += "err" in classes
        if tag == "td" and "data-gold" in attrs:
            self._cell = (attrs["data-gold"], attrs["data-predicted"])

    def handle_data(self, data):
        self.text.append(data)
        if self._cell:
            self.confusion[self._cell] = int(data)
            self._cell = None


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser


def wrong_lines(doc: Document, labels: list[LineLabel]) -> int:
    """Lines with a non-blank character whose predicted label is not its gold one, char by char."""
    wrong = 0
    for i, line in enumerate(doc.lines):
        label = doc.labels[i]
        if label is None or (label == "mixed" and i not in doc.spans):
            continue
        gold = [label] * len(line)
        for start, end, name in doc.spans.get(i, []):
            gold[start:end] = [name] * (end - start)
        predicted = ["chrome"] * len(line)
        for item in labels:
            if item.line == i + 1:
                predicted[item.start : item.end] = [item.label] * (item.end - item.start)
        wrong += any(g != p for g, p, ch in zip(gold, predicted, line) if not ch.isspace())
    return wrong


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("evaluate")
    rng = random.Random(11)
    for k in range(6):
        write_tsv(root / f"site{k % 3}" / f"page{k}.tsv", page(rng, spam=k % 2 == 0))
    write_tsv(root / "hostile" / "page.tsv", HOSTILE)
    (root / "golden-1.json").write_text(json.dumps(GOLD, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def written(pages, tiny_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["evaluate", str(pages), "--model", str(tiny_model), "--baseline",
                                      "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "confusion (rows gold, columns predicted)" in result.stdout  # the printed scores stay
    return out


@pytest.fixture(scope="module")
def expected(pages, tiny_model_labeler):
    docs = load_documents([pages])
    predictions = tiny_model_labeler.label_documents([d.lines for d in docs], RepeatCounter())
    return docs, predictions


def test_report_matches_the_scores_and_marks_every_wrong_line(written, expected):
    docs, predictions = expected
    html = written.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html
    found = parse(html)
    report = score(docs, predictions)
    assert found.confusion == {(g, p): report.count(g, p) for g in LABELS for p in LABELS}
    assert set(found.docs) == {d.id for d in docs} and len(docs) == 8
    per_doc = {d.id: wrong_lines(d, labels) for d, labels in zip(docs, predictions)}
    assert found.docs == per_doc
    assert found.wrong_lines == sum(per_doc.values()) > 0
    assert found.lines == sum(len(d.lines) for d in docs)
    assert f'<span id="wrong-lines">{found.wrong_lines}</span>' in html
    order = list(found.docs.values())
    assert order == sorted(order, reverse=True)  # documents with errors first


def test_unwritable_report_path_is_an_error(pages, tiny_model, tmp_path):
    result = CliRunner().invoke(app, ["evaluate", str(pages), "--model", str(tiny_model), "--report", str(tmp_path)])
    assert result.exit_code == 2 and "cannot write the report" in result.stderr
    assert "confusion (rows gold, columns predicted)" in result.stdout


def test_page_text_is_escaped(written):
    html = written.read_text(encoding="utf-8")
    found = parse(html)
    assert not found.tags & {"script", "b", "i", "a outside the index"}
    text = "".join(found.text)
    for raw in ("<script>alert('彩票')</script>澳门娱乐城 & 真人百家乐", "首页 &gt; 公文 & 范文 > <b>讲话稿</b>",
                "（<i>示例网</i> & 更多）", "⟦不是标记⟧"):
        assert raw in text
    assert "&lt;script&gt;alert(&#x27;彩票&#x27;)&lt;/script&gt;" in html
    assert "首页 &amp;gt; 公文 &amp; 范文" in html


def test_no_external_resources(written):
    html = written.read_text(encoding="utf-8")
    for marker in ("http://", "https://", "//cdn", "@import", "url(", "<link", "<img", "<script"):
        assert marker not in html.replace("http://www.example.cn", "")  # invented page text may name a site


def test_mixed_line_pieces_cut_at_gold_and_predicted_boundaries():
    line = "正文甲（广告）正文乙"
    doc = Document("d", "s", [line], ["mixed"], "正文甲正文乙", {0: [(0, 3, "body"), (3, 7, "chrome"), (7, 10, "body")]})
    labels = [LineLabel(1, "body", 0.9, 0, 5), LineLabel(1, "chrome", 0.8, 5, 10)]
    pieces = line_pieces(doc, 0, labels)
    assert [(p.start, p.end, p.gold, p.predicted) for p in pieces] == [
        (0, 3, "body", "body"), (3, 5, "chrome", "body"), (5, 7, "chrome", "chrome"), (7, 10, "body", "chrome")]
    assert [p.wrong(line) for p in pieces] == [False, True, False, True]


def test_blank_and_unscored_lines_are_never_wrong():
    doc = Document("d", "s", ["", "  ", "导航"], [None, None, None], "")
    labels = [LineLabel(1, "body", 1.0, 0, 0), LineLabel(2, "chrome", 1.0, 0, 2), LineLabel(3, "body", 1.0, 0, 2)]
    found = parse(render([doc], [labels], score([doc], [labels])))
    assert found.lines == 3 and found.wrong_lines == 0 and found.docs == {"d": 0}


# --- in a browser -----------------------------------------------------------------------------


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path: Path) -> np.ndarray:
    """The pixels (height, width, 3) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8 : pos + 8 + size])
        elif kind == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + size])
        pos += 12 + size
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp, stride = 3 if color == 2 else 4, width * (3 if color == 2 else 4)
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, row = raw[y, 0], raw[y, 1:]
        if kind == 0:
            out[y] = row
        elif kind == 1:  # Sub: a running sum per channel
            out[y] = np.cumsum(row.reshape(width, bpp), axis=0, dtype=np.uint64).reshape(stride) % 256
        elif kind == 2:
            out[y] = row + prev
        else:  # Average and Paeth depend on the decoded left neighbour: byte by byte
            out[y] = _unfilter_slow(kind, row.tobytes(), prev.tobytes(), bpp)
        prev = out[y]
    return out.reshape(height, width, bpp)[:, :, :3]


def _unfilter_slow(kind: int, row: bytes, prev: bytes, bpp: int) -> bytearray:
    cur = bytearray(row)
    for x in range(len(cur)):
        a = cur[x - bpp] if x >= bpp else 0
        b = prev[x]
        if kind == 3:
            cur[x] = (cur[x] + (a + b) // 2) & 255
            continue
        c = prev[x - bpp] if x >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return cur


def test_report_renders_in_headless_chromium(written, expected, tmp_path):
    binary = chromium()
    if binary is None:
        if os.environ.get("CLASSIFIER_REQUIRE_BROWSER") == "1":
            pytest.fail("CLASSIFIER_REQUIRE_BROWSER=1 but no chromium binary (chromium, chromium-browser) found")
        pytest.skip("no chromium binary found (install chromium to run this test)")
    url = written.resolve().as_uri()
    dom = run_chromium(binary, tmp_path / "profile", "--dump-dom", url).stdout
    found, source = parse(dom), parse(written.read_text(encoding="utf-8"))
    docs, predictions = expected
    assert set(found.docs) == {d.id for d in docs}
    assert found.wrong_lines == source.wrong_lines == sum(wrong_lines(d, p) for d, p in zip(docs, predictions))
    assert found.lines == source.lines and found.confusion == source.confusion
    assert "script" not in found.tags  # escaped page text stayed text in the browser too

    shot = tmp_path / "report.png"
    run_chromium(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000", url)
    pixels = png_pixels(shot)
    assert pixels.shape == (2000, 1200, 3)
    packed = (pixels[:, :, 0].astype(np.uint32) << 16) | (pixels[:, :, 1].astype(np.uint32) << 8) | pixels[:, :, 2]
    colours = set(np.unique(packed).tolist())
    assert len(colours) > 20, "the screenshot is (nearly) one flat colour"
    # The style sheet applied: predicted body and chrome backgrounds, and a wrong line's background.
    for colour in (0xDCF1DF, 0xE2E6EE, 0xFFF5F5):
        assert colour in colours, f"no pixel of colour #{colour:06x} in the screenshot"
