"""Bad input, faults and unsafe models, each fed through the command line.

Every case checks the message (it names the file, and the line where there is one), the exit
code (0 all done; 1 some inputs failed, the rest done; 2 nothing could run) and that every good
document's output is what filtering that document alone gives. Where real process behaviour
matters (signals, FIFOs, the encoding of stdout, peak memory) the command runs as
`python -m classifier` in a subprocess.
"""
from __future__ import annotations

import codecs
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from opencc import OpenCC
from typer.testing import CliRunner

from classifier.cli import app
from classifier.reading import decode

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# An invented county notice on an invented portal: navigation and meta lines, the notice, footer.
PAGE = """首页 | 通知公告 | 政务公开 | 办事服务 | 互动交流
当前位置：首页 > 通知公告 > 正文
发布时间：2023-09-18 09:30 来源：县农业农村局 浏览次数：1268

关于做好今年秋粮收获和秸秆禁烧工作的通知
各乡镇人民政府，县直有关单位：
　　当前全县秋粮陆续进入收获期，天气晴好，田间作业集中，秸秆焚烧和机收安全隐患增多。为确保颗粒归仓、空气清新，现就有关事项通知如下。
　　一、抓好抢收晾晒。各乡镇要组织农机合作社和种粮大户错峰作业，优先收获成熟早、易倒伏的地块，协调晒场和烘干设备，防止粮食霉变。
　　二、严格秸秆禁烧。实行县领导包乡、乡干部包村、村干部包地块的网格责任制，白天巡查与夜间值守相结合，发现火点立即处置并逐级上报。
　　三、推进综合利用。大力推广秸秆还田、打捆离田和饲料化利用，对收储企业给予补助，让秸秆变废为宝。
　　四、强化督导考核。县里将组织专项督查，对工作不力、出现火点的乡镇予以通报，并纳入年度考核。
　　特此通知。
县农业农村局
2023年9月18日

上一篇：关于开展农村人居环境整治检查的通知
下一篇：全县冬小麦播种技术指导意见
【打印本页】【关闭窗口】
主办单位：示例县人民政府办公室 备案号：示ICP备12345678号
"""

# The same page as a traditional-character mirror would serve it (Taiwan standard forms, all of
# which Big5 can encode).
PAGE_TRADITIONAL = OpenCC("s2tw").convert(PAGE)

BODY_LINE = "二、严格秸秆禁烧"


def quiet(args) -> list[str]:
    """The arguments with --quiet for filter and label, so stderr holds only the problems."""
    args = [str(a) for a in args]
    return args + ["--quiet"] if args and args[0] in ("filter", "label") else args


def invoke(*args, input=None):
    return runner.invoke(app, quiet(args), input=input)


def run(*args, timeout=120, env=None, **kwargs) -> subprocess.CompletedProcess:
    """`python -m classifier ARGS` in a subprocess, importing this checkout."""
    return subprocess.run([sys.executable, "-m", "classifier", *quiet(args)], capture_output=True, text=True,
                          timeout=timeout, env=env or child_env(), **kwargs)


def child_env(**extra) -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def variant(seed: int) -> str:
    """PAGE with its figures and the order of its four points changed: pages of one site."""
    rng = random.Random(seed)
    lines = PAGE.split("\n")
    points = lines[7:11]
    rng.shuffle(points)
    lines[7:11] = points
    lines[2] = f"发布时间：2023-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 来源：县农业农村局 浏览次数：{rng.randint(10, 9999)}"
    return "\n".join(lines)


@pytest.fixture(scope="module")
def alone(tiny_model):
    """The body `filter` gives for one document read alone, as its output file would hold it."""
    cache: dict[str, str] = {}

    def body(text: str) -> str:
        if text not in cache:
            result = invoke("filter", "--model", tiny_model, input=text.encode("utf-8"))
            assert result.exit_code == 0, result.output
            cache[text] = result.stdout
        return cache[text]

    return body


def write_pages(directory: Path, pages: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in pages.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return directory


def outputs(directory: Path) -> dict[str, str]:
    """Every file under directory, hidden ones included, by relative path."""
    return {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_invented_page_keeps_its_notice(alone):
    body = alone(PAGE)
    assert BODY_LINE in body and "浏览次数" not in body and "ICP" not in body


# --- 1. encodings ---------------------------------------------------------------------------


def test_every_supported_encoding_filters_like_utf8(tiny_model, alone, tmp_path):
    encoded = {
        "utf8.txt": PAGE.encode("utf-8"),
        "utf8-bom.txt": codecs.BOM_UTF8 + PAGE.encode("utf-8"),
        "utf16-le.txt": codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"),
        "utf16-be.txt": codecs.BOM_UTF16_BE + PAGE.encode("utf-16-be"),
        "gb18030.txt": PAGE.encode("gb18030"),
        "gbk.txt": PAGE.encode("gbk"),
        "big5.txt": PAGE_TRADITIONAL.encode("big5"),
        "utf8-traditional.txt": PAGE_TRADITIONAL.encode("utf-8"),
    }
    pages = write_pages(tmp_path / "pages", encoded)
    out = tmp_path / "out"
    result = invoke("filter", pages, "-o", out, "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 0 and result.stderr == ""
    got = outputs(out)
    assert sorted(got) == sorted(encoded)
    for name, text in got.items():
        assert text == alone(PAGE_TRADITIONAL if "big5" in name or "traditional" in name else PAGE), name
    assert BODY_LINE in got["gbk.txt"]


def test_short_gbk_pages_decode_right_from_eleven_characters():
    """Detection needs some text. Measured on windows of the notice's body (charset-normalizer
    3.5): every window of 11 or more characters decodes right; of 10, 5 in 291 come out wrong,
    of 7, 6 in 294, of 4, 139 in 297, and 2 or 3 characters almost never decode right (they read
    as other encodings without an error). A page that short needs --encoding."""
    body = "".join(line.strip() for line in PAGE.split("\n")[6:11])
    for n in range(11, 41):
        for start in range(0, len(body) - n, 3):
            window = body[start : start + n]
            assert decode(window.encode("gbk")) == window, window


def test_encoding_option_overrides_detection(tiny_model, tmp_path):
    short = "秋粮收获"  # four characters: too short to detect (detected, it reads as other characters)
    page = tmp_path / "short.txt"
    page.write_bytes(short.encode("gbk"))
    result = invoke("filter", page, "--model", tiny_model, "--encoding", "gbk")
    assert result.exit_code == 0 and result.stdout == short + "\n"


def test_a_wrong_encoding_names_file_and_line_and_the_batch_goes_on(tiny_model, alone, tmp_path):
    pages = write_pages(tmp_path / "pages", {"a.txt": PAGE, "b.txt": PAGE.encode("gbk")})
    result = invoke("filter", pages, "--model", tiny_model, "--encoding", "utf-8")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {pages / 'b.txt'}:1: cannot decode as utf-8 (invalid continuation byte at byte 0); "
                              "try another --encoding, or none to detect it"]
    assert result.stdout == alone(PAGE)
    later = write_pages(tmp_path / "later", {"c.txt": ("正文\n" * 4).encode("utf-8") + "第五行".encode("gbk")})
    result = invoke("filter", later, "--model", tiny_model, "--encoding", "utf-8")
    assert result.exit_code == 1 and f"{later / 'c.txt'}:5: cannot decode as utf-8" in result.stderr


@pytest.mark.parametrize("name", ["nosuch", "base64", "rot13"])
def test_an_unknown_encoding_name_stops_before_reading(tiny_model, tmp_path, name):
    page = write_pages(tmp_path, {"a.txt": PAGE}) / "a.txt"
    result = invoke("filter", page, "--model", tiny_model, "--encoding", name)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"unknown text encoding '{name}'" in result.stderr
    assert result.stderr.count(str(page)) == 0  # one message for the run, not one per file


def binary_files() -> dict[str, bytes]:
    rng = random.Random(5)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(3000)
    deflated = io.BytesIO()
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("page.txt", PAGE * 3)
    tar = b"page.txt".ljust(100, b"\x00") + b"0000644\x00".ljust(412, b"\x00") + PAGE.encode() + b"\x00" * 600
    return {"image.txt": png, "archive.txt": deflated.getvalue(), "random.txt": rng.randbytes(5000), "tar.txt": tar}


def test_binary_files_are_reported_and_the_batch_goes_on(tiny_model, tmp_path):
    good = {"a.txt": variant(1), "m.txt": variant(2), "z.txt": variant(3)}
    only_good = write_pages(tmp_path / "good", good)
    mixed = write_pages(tmp_path / "mixed", {**good, **{f"b/{name}": data for name, data in binary_files().items()}})
    expected = invoke("filter", only_good, "-o", tmp_path / "expected", "--model", tiny_model)
    result = invoke("filter", mixed, "-o", tmp_path / "out", "--model", tiny_model)
    assert expected.exit_code == 0 and result.exit_code == 1
    assert errors(result) == [f"error: {mixed / 'b' / name}: looks like a binary file, not text"
                              for name in ("archive.txt", "image.txt", "random.txt", "tar.txt")]
    # A failed input gets no output file; the others are what a run without the bad files gives.
    assert outputs(tmp_path / "out") == outputs(tmp_path / "expected")
    labels = invoke("label", mixed / "b" / "tar.txt", mixed / "a.txt", "--model", tiny_model)
    assert labels.exit_code == 1 and {json.loads(r)["path"] for r in labels.stdout.splitlines()} == {str(mixed / "a.txt")}


# --- 2. shapes ------------------------------------------------------------------------------


def test_empty_and_blank_files_give_empty_outputs(tiny_model, tmp_path):
    pages = write_pages(tmp_path / "pages", {"empty.txt": "", "blank.txt": " \n\t\n\u3000\u3000\n\n", "bom.txt": codecs.BOM_UTF8})
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model)
    assert result.exit_code == 0 and result.stderr == ""
    assert outputs(tmp_path / "out") == {"blank.txt": "", "bom.txt": "", "empty.txt": ""}
    printed = invoke("filter", pages, "--model", tiny_model)
    assert printed.exit_code == 0 and printed.stdout == ""
    labels = invoke("label", pages / "blank.txt", "--model", tiny_model)
    assert [json.loads(r)["line"] for r in labels.stdout.splitlines()] == [1, 2, 3, 4, 5]


def test_crlf_and_cr_line_ends_filter_like_lf(tiny_model, alone, tmp_path):
    pages = write_pages(tmp_path / "pages", {"crlf.txt": PAGE.replace("\n", "\r\n").encode("utf-8"),
                                             "cr.txt": PAGE.replace("\n", "\r").encode("gb18030")})
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 0
    assert outputs(tmp_path / "out") == {"cr.txt": alone(PAGE), "crlf.txt": alone(PAGE)}


def test_sparse_nul_bytes_are_text_and_kept(tiny_model, alone, tmp_path):
    """A few NULs (a scraper's stray padding) do not make a page binary. The filter never alters
    a character, so a body line keeps its NUL; the page is labeled like the page without them."""
    with_nul = PAGE.replace("二、严格", "二、\x00严格").replace("特此", "特\x00此")
    pages = write_pages(tmp_path / "pages", {"utf8.txt": with_nul, "gbk.txt": with_nul.encode("gbk")})
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 0
    got = outputs(tmp_path / "out")
    assert got["gbk.txt"] == got["utf8.txt"] == alone(with_nul)
    assert "二、\x00严格" in got["utf8.txt"] and got["utf8.txt"].replace("\x00", "") == alone(PAGE)


# Runs the command and reports its own peak memory and time on stderr as its last line.
MEASURED = """
import atexit, resource, sys, time
start = time.perf_counter()
atexit.register(lambda: print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB "
                              f"{time.perf_counter() - start:.1f} s", file=sys.stderr))
from classifier.cli import main
sys.argv[0] = "classifier"
main()
"""


def run_measured(*args, timeout=300) -> tuple[subprocess.CompletedProcess, int]:
    result = subprocess.run([sys.executable, "-c", MEASURED, *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, env=child_env())
    peak = int(result.stderr.rsplit("peak ", 1)[1].split()[0])
    return result, peak


def test_a_single_20_mb_line(tiny_model, tmp_path):
    """A whole site dumped on one line. 200 MB belongs to `make bench`; 20 MB keeps this quick."""
    paragraphs = "".join(line.strip() for line in PAGE.split("\n")[6:11])
    line = paragraphs * (20_000_000 // len(paragraphs.encode("utf-8")))
    page = tmp_path / "long.txt"
    page.write_text(line, encoding="utf-8")
    result, peak = run_measured("filter", page, "--model", tiny_model)
    assert result.returncode == 0, result.stderr
    body = result.stdout
    assert body.endswith("\n") and "\n" not in body[:-1]
    assert len(body) > 0.9 * len(line) and set(body[:-1]) <= set(line)
    assert peak < 600, result.stderr  # about 210 MB


def test_many_short_lines(tiny_model, tmp_path):
    """200,000 short lines in one file: about 15-20 s and a peak of 300 MB. Measured once by hand
    with 1,000,000 lines (12 MB): 111 s and a peak of 690 MB (4.8 GB before long documents were
    labeled in pieces)."""
    rng = random.Random(11)
    words = ["通知", "会议", "首页", "下一篇", "秸秆禁烧", "特此通知。", "一、抓好抢收晾晒", "浏览次数：12"]
    lines = [f"{rng.choice(words)}{k % 97}" for k in range(200_000)]
    page = tmp_path / "many.txt"
    page.write_text("\n".join(lines), encoding="utf-8")
    result, peak = run_measured("filter", page, "--model", tiny_model)
    assert result.returncode == 0, result.stderr
    kept = result.stdout.split("\n")[:-1]
    assert kept and is_subsequence(kept, lines)  # nothing invented, nothing reordered
    assert peak < 500, result.stderr  # about 300 MB; 1 GB when the document was one piece


def is_subsequence(items: list, of: list) -> bool:
    rest = iter(of)
    return all(any(item == candidate for candidate in rest) for item in items)


def test_a_long_document_is_labeled_in_pieces_that_tile_it(tiny_model, monkeypatch):
    from classifier import filtering

    monkeypatch.setattr(filtering, "PIECE_LINES", 50)
    text = "\n".join([PAGE] * 9)  # 190 lines: four pieces
    lines = text.split("\n")
    result = invoke("label", "--model", tiny_model, "--format", "tsv", input=text)
    assert result.exit_code == 0
    rows = [row.split("\t") for row in result.stdout.splitlines()]
    numbers = sorted({int(row[1]) for row in rows})
    assert numbers == list(range(1, len(lines) + 1))
    for n in numbers:
        spans = [(int(r[2]), int(r[3])) for r in rows if int(r[1]) == n]
        assert spans[0][0] == 0 and spans[-1][1] == len(lines[n - 1])


def test_deeply_nested_directories(tiny_model, alone, tmp_path):
    deep = Path(*["d"] * 200)
    pages = write_pages(tmp_path / "pages", {"top.txt": variant(1), f"{deep.as_posix()}/bottom.txt": variant(2)})
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 0
    assert outputs(tmp_path / "out") == {"top.txt": alone(variant(1)), f"{deep.as_posix()}/bottom.txt": alone(variant(2))}


def test_a_directory_past_the_path_length_limit_is_reported(tiny_model, alone, tmp_path):
    """Paths longer than PATH_MAX cannot be opened by name; the walk used to skip them in silence."""
    pages = write_pages(tmp_path / "pages", {"a.txt": variant(1), "z.txt": variant(2)})
    name = "n" * 60
    fd = os.open(pages, os.O_RDONLY)
    try:
        for _ in range(80):  # 80 levels of 61 characters: about 4,900 characters, past Linux's 4,096
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        page = os.open("lost.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(page, PAGE.encode())
        os.close(page)
    finally:
        os.close(fd)
    try:
        result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
        assert result.exit_code == 1
        (message,) = errors(result)
        assert message.startswith(f"error: {pages / name}/") and message.endswith(": cannot list directory: File name too long")
        assert outputs(tmp_path / "out") == {"a.txt": alone(variant(1)), "z.txt": alone(variant(2))}
    finally:
        shutil.rmtree(pages / name)


def test_symlink_loops_end_and_each_real_file_is_read_once(tiny_model, tmp_path):
    tree = write_pages(tmp_path / "tree", {"a/one.txt": variant(1), "a/b/two.txt": variant(2), "z/three.txt": variant(3)})
    (tree / "a" / "b" / "up").symlink_to("..")
    (tree / "a" / "b" / "top").symlink_to("../..")
    (tree / "a" / "self").symlink_to(".")
    (tree / "z" / "absolute").symlink_to(tree)
    result = invoke("label", tree, "--model", tiny_model, "--format", "tsv")
    assert result.exit_code == 0
    rows = [row.split("\t") for row in result.stdout.splitlines()]
    assert sorted({path for path, *_ in rows}) == [str(tree / "a" / "b" / "two.txt"), str(tree / "a" / "one.txt"),
                                                   str(tree / "z" / "three.txt")]
    lines = [(path, line) for path, line, start, *_ in rows if start == "0"]
    assert len(lines) == len(set(lines)) == sum(len(variant(k).split("\n")) for k in (1, 2, 3))  # each line once


def test_unreadable_files_are_named_and_the_batch_goes_on(tiny_model, alone, tmp_path, monkeypatch):
    pages = write_pages(tmp_path / "pages", {"a.txt": variant(1), "secret.txt": variant(2), "z.txt": variant(3)})
    (pages / "secret.txt").chmod(0)
    if os.geteuid() == 0:  # root reads through chmod 000: fail the read as it fails for anyone else
        read_bytes = Path.read_bytes

        def refuse(self):
            if self.name == "secret.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", refuse)
    (pages / "gone.txt").symlink_to(tmp_path / "removed-after-listing.txt")
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {pages / 'gone.txt'}: cannot read: No such file or directory",
                              f"error: {pages / 'secret.txt'}: cannot read: Permission denied"]
    assert outputs(tmp_path / "out") == {"a.txt": alone(variant(1)), "z.txt": alone(variant(3))}


def test_a_path_that_does_not_exist(tiny_model, alone, tmp_path):
    page = write_pages(tmp_path, {"a.txt": PAGE}) / "a.txt"
    result = invoke("filter", tmp_path / "missing.txt", page, tmp_path / "missing-dir", "--model", tiny_model)
    assert result.exit_code == 1 and result.stdout == alone(PAGE)
    assert errors(result) == [f"error: {tmp_path / 'missing.txt'}: no such file or directory",
                              f"error: {tmp_path / 'missing-dir'}: no such file or directory"]
    train = invoke("train", tmp_path / "missing-dir", "-o", tmp_path / "model")
    assert train.exit_code == 2 and errors(train) == [f"error: {tmp_path / 'missing-dir'}: no such file or directory"]


def test_a_file_where_a_directory_is_expected(tiny_model, tmp_path):
    page = write_pages(tmp_path, {"a.txt": PAGE}) / "a.txt"
    as_model = invoke("filter", page, "--model", page)
    assert as_model.exit_code == 2 and errors(as_model) == [
        f"error: {page}: not a model directory (one holding meta.json and weights.npz); pass --model DIR"]
    as_output = invoke("filter", page, "-o", page, "--model", tiny_model)
    assert as_output.exit_code == 2 and errors(as_output) == [f"error: {page}: exists and is not a directory (--output-dir)"]
    below = invoke("filter", page, "-o", page / "out", "--model", tiny_model)
    assert below.exit_code == 2
    assert errors(below) == [f"error: {page / 'out'}: cannot create the output directory: Not a directory"]
    assert page.read_text(encoding="utf-8") == PAGE


def test_fifos_and_sockets_in_a_walked_directory_are_skipped(tiny_model, alone, tmp_path):
    pages = write_pages(tmp_path / "p", {"a.txt": PAGE})
    os.mkfifo(pages / "f.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(pages / "s.txt"))
    try:
        result = run("filter", pages, "--model", tiny_model, timeout=60)  # reading a FIFO would wait forever
    finally:
        server.close()
    assert result.returncode == 1 and result.stdout == alone(PAGE)
    assert errors(result) == [f"error: {pages / 'f.txt'}: not a regular file (a FIFO), skipped",
                              f"error: {pages / 's.txt'}: not a regular file (a socket), skipped"]


def test_a_fifo_named_on_the_command_line_is_read(tiny_model, alone, tmp_path):
    """As `classifier filter <(zcat page.gz)` passes one: it is read like stdin."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "classifier", "filter", str(fifo), "--model", str(tiny_model)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    with open(fifo, "wb") as writer:
        writer.write(PAGE.encode("gb18030"))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and stdout == alone(PAGE), stderr


# --- 3. outputs -----------------------------------------------------------------------------

# The command with each output written in two halves a moment apart, so that a signal lands
# while an output file is half written, however fast labeling is: whole files (reports) and the
# documents' outputs (`runs.Output`) alike.
SLOW_WRITES = """
import io, sys, time
from classifier import artifacts, runs
from classifier.cli import main
output_write = runs.Output.write
def output_in_halves(self, text):
    output_write(self, text[: len(text) // 2])
    if self.out is not None and self.output_dir is not None:
        self.out.flush()
    time.sleep(0.02)
    output_write(self, text[len(text) // 2 :])
runs.Output.write = output_in_halves
write_atomic = artifacts.write_atomic
def in_halves(path, write, binary=False):
    def halves(f):
        buffer = io.StringIO()
        write(buffer)
        text = buffer.getvalue()
        f.write(text[: len(text) // 2])
        f.flush()
        time.sleep(0.3)
        f.write(text[len(text) // 2 :])
    write_atomic(path, halves, binary)
artifacts.write_atomic = in_halves
sys.argv[0] = "classifier"
main()
"""


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory, tiny_model) -> tuple[Path, dict[str, str]]:
    """6,000 pages of one site, and the output files of a full run over them: a run long enough
    (seconds) for a signal sent after its first outputs to land before its end."""
    pages = write_pages(tmp_path_factory.mktemp("big") / "pages", {f"p{k:04d}.txt": variant(k) for k in range(6000)})
    out = pages.parent / "full"
    assert invoke("filter", pages, "-o", out, "--model", tiny_model).exit_code == 0
    return pages, outputs(out)


def _default_sigint() -> None:
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # keeps an ignored SIGINT ignored: the command under test must get the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(command: list[str], out: Path, sig: int, ready) -> int:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(),
                               preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    while not ready(out) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(sig)
    process.communicate(timeout=60)
    return process.returncode


def hidden(out: Path) -> list[Path]:
    return list(out.rglob(".*")) if out.exists() else []


def done(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if not p.name.startswith(".")] if out.exists() else []


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_complete_outputs_and_no_temporary_files(tiny_model, big_dir, tmp_path, sig, jobs):
    pages, full = big_dir
    out = tmp_path / "out"
    command = [sys.executable, "-c", SLOW_WRITES, "filter", str(pages), "-o", str(out), "--model", str(tiny_model),
               "--jobs", str(jobs)]
    code = interrupt(command, out, sig, lambda out: len(done(out)) >= 2 and hidden(out))
    assert code == 128 + sig
    assert hidden(out) == []  # the half-written file was removed
    written = outputs(out)
    assert 2 <= len(written) < len(full) and all(text == full[name] for name, text in written.items())


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.3])
def test_sigterm_to_python_m_classifier(tiny_model, big_dir, tmp_path, delay):
    """At a few moments of a real run: a temporary file created by mkstemp escaped the cleanup
    in about one run in five, when the signal came between its creation and its name."""
    pages, full = big_dir
    out = tmp_path / "out"
    command = [sys.executable, "-m", "classifier", "filter", str(pages), "-o", str(out), "--model", str(tiny_model)]

    first_output: list[float] = []

    def ready(out: Path) -> bool:
        if done(out) and not first_output:
            first_output.append(time.monotonic())
        return bool(first_output) and time.monotonic() - first_output[0] >= delay

    assert interrupt(command, out, signal.SIGTERM, ready) == 143
    written = outputs(out)
    assert hidden(out) == [] and 0 < len(written) < len(full) and all(text == full[name] for name, text in written.items())


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(directory).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_inputs_are_never_modified_and_outputs_are_never_read_back(tiny_model, tmp_path):
    pages = write_pages(tmp_path / "pages", {"a.txt": variant(1), "b/c.txt": PAGE.replace("\n", "\r\n").encode("gbk"),
                                             "d.txt": PAGE_TRADITIONAL.encode("big5")})
    before = snapshot(pages)
    first = invoke("filter", pages, "-o", pages / "clean", "--model", tiny_model)
    second = invoke("filter", pages, "-o", pages / "clean", "--model", tiny_model)
    assert first.exit_code == second.exit_code == 0 and second.stderr == "", first.stderr + second.stderr
    assert sorted(outputs(pages / "clean")) == ["a.txt", "b/c.txt", "d.txt"]  # no clean/clean/...
    shutil.rmtree(pages / "clean")
    onto = invoke("filter", pages, "-o", pages, "--model", tiny_model)
    assert onto.exit_code == 1
    assert errors(onto) == [f"error: {pages / name}: the output would replace the input file; choose another --output-dir"
                            for name in ("a.txt", "d.txt", "b/c.txt")]  # a directory's files before its subdirectories
    assert invoke("label", pages, "--model", tiny_model).exit_code == 0
    assert snapshot(pages) == before


def test_an_output_that_cannot_be_written_is_reported_and_the_rest_are_written(tiny_model, alone, tmp_path):
    pages = write_pages(tmp_path / "pages", {"a.txt": variant(1), "b.txt": variant(2), "c.txt": variant(3)})
    (tmp_path / "out" / "b.txt").mkdir(parents=True)
    result = invoke("filter", pages, "-o", tmp_path / "out", "--model", tiny_model, "--no-repeats")
    assert result.exit_code == 1
    assert errors(result) == [f"error: {pages / 'b.txt'}: cannot write {tmp_path / 'out' / 'b.txt'}: Is a directory"]
    assert outputs(tmp_path / "out") == {"a.txt": alone(variant(1)), "c.txt": alone(variant(3))}


def test_file_names_that_are_not_utf8_do_not_stop_label(tiny_model, tmp_path):
    """Pages unpacked from a GBK zip archive keep GBK file names; stdout may encode strictly."""
    pages = tmp_path / "pages"
    pages.mkdir()
    raw = "讲话稿".encode("gbk")
    (pages / os.fsdecode(raw + b".txt")).write_text(PAGE, encoding="utf-8")
    result = run("label", pages, "--model", tiny_model, env=child_env(PYTHONIOENCODING="utf-8:strict"))
    assert result.returncode == 0, result.stderr
    shown = f"{pages}/" + "".join(f"\\x{byte:02x}" for byte in raw) + ".txt"
    assert {json.loads(row)["path"] for row in result.stdout.splitlines()} == {shown}


# --- 4. models ------------------------------------------------------------------------------


def edit_meta(change):
    def damage(model: Path) -> None:
        meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
        change(meta)
        (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    return damage


def edit_arrays(change):
    def damage(model: Path) -> None:
        with np.load(model / "weights.npz") as data:
            arrays = {name: data[name] for name in data.files}
        change(arrays)
        np.savez(model / "weights.npz", **arrays)

    return damage


def flip_deflate_stream(model: Path) -> None:
    data = bytearray((model / "weights.npz").read_bytes())
    for k in range(200, 240):  # inside the first member's compressed data
        data[k] ^= 0x55
    (model / "weights.npz").write_bytes(bytes(data))


# (what is done to a copy of the tiny model, the file the message names, what it says)
MODEL_DAMAGE = {
    "missing directory": (lambda m: shutil.rmtree(m), "", "no such model directory"),
    "missing meta.json": (lambda m: (m / "meta.json").unlink(), "meta.json", "no model here"),
    "missing weights": (lambda m: (m / "weights.npz").unlink(), "weights.npz", "model weights are missing"),
    "truncated weights": (lambda m: (m / "weights.npz").write_bytes((m / "weights.npz").read_bytes()[:3000]),
                          "weights.npz", "damaged model weights (File is not a zip file)"),
    "empty weights": (lambda m: (m / "weights.npz").write_bytes(b""), "weights.npz", "damaged model weights"),
    "corrupt deflate stream": (flip_deflate_stream, "weights.npz", "damaged model weights"),
    "meta.json not JSON": (lambda m: (m / "meta.json").write_text('{"format": "classifier-model", '),
                           "meta.json", "unreadable model metadata"),
    "another format": (edit_meta(lambda meta: meta.update(format="other-model")), "meta.json",
                       "not a classifier model (format 'other-model', expected 'classifier-model')"),
    "another format version": (edit_meta(lambda meta: meta.update(format_version=2)), "meta.json",
                               "model format 2 is not supported"),
    "another feature version": (edit_meta(lambda meta: meta["features"].update(version=2)), "meta.json",
                                "trained with feature version 2"),
    "other feature width": (edit_meta(lambda meta: meta["features"].update(n_features=2**10)), "weights.npz",
                            "array shapes do not match the feature settings"),
    "unknown feature setting": (edit_meta(lambda meta: meta["features"].update(colour="red")), "meta.json",
                                "bad feature settings"),
    "setting of the wrong type": (edit_meta(lambda meta: meta["features"].update(head_chars="100")), "meta.json",
                                  "bad feature setting head_chars = '100'"),
    "labels in another order": (edit_meta(lambda meta: meta.update(labels=["chrome", "body", "spam"])), "meta.json",
                                "labels ['chrome', 'body', 'spam'] are not ['body', 'chrome', 'spam']"),
    "transition weight not a number": (edit_meta(lambda meta: meta["decoding"].update(transition_weight="x")),
                                       "meta.json", "bad decoding.transition_weight 'x'"),
    "array of another shape": (edit_arrays(lambda a: a.update(coef=a["coef"][:, :100])), "weights.npz",
                               "array shapes do not match"),
    "missing array": (edit_arrays(lambda a: a.pop("log_trans")), "weights.npz", "missing arrays ['log_trans']"),
    "NaN weights": (edit_arrays(lambda a: a["coef"].fill(np.nan)), "weights.npz", "array coef does not hold finite numbers"),
}


@pytest.mark.parametrize("case", list(MODEL_DAMAGE))
def test_a_damaged_model_is_one_clear_line_and_exit_2(tiny_model, tmp_path, case):
    damage, file, message = MODEL_DAMAGE[case]
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    damage(model)
    result = invoke("filter", "--model", model, input=PAGE)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = errors(result)
    assert line.startswith(f"error: {model / file}: ") and message in line, line
    assert "retrain" in line or "classifier train" in line or "--model" in line  # what to do


class Tripwire:
    """Unpickling this creates the marker file: proof that code from the model file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def test_a_pickled_object_array_is_refused_without_unpickling(tiny_model, tmp_path):
    marker = tmp_path / "code-ran"
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    with np.load(model / "weights.npz") as data:
        arrays = {name: data[name] for name in data.files}
    trap = np.empty(1, dtype=object)
    trap[0] = Tripwire(marker)
    np.savez(model / "weights.npz", allow_pickle=True, **{**arrays, "coef": trap})
    with np.load(model / "weights.npz", allow_pickle=True) as data:  # the trap is live: loading with pickles runs it
        data["coef"]
    assert marker.exists()
    marker.unlink()
    (tmp_path / "gold.json").write_text(json.dumps({"text": "正文", "lines": [{"n": 1, "label": "B"}]}))
    for command in (["filter", "-"], ["label", "-"], ["evaluate", tmp_path / "gold.json"]):
        result = invoke(*command, "--model", model, input=PAGE)
        assert result.exit_code == 2
        assert errors(result) == [f"error: {model / 'weights.npz'}: holds pickled Python objects, which are never "
                                  "loaded (they could run code); use a model written by `classifier train`"]
    assert not marker.exists()


# --- 5. labeled data ------------------------------------------------------------------------


def test_train_lists_every_problem_as_path_line(tmp_path):
    labeled = write_pages(tmp_path / "labeled", {
        "s1/rows.tsv": "chrome\t首页\nbody\t正文第一句。\n没有制表符的一行\nbodi\t正文\nbody\t好\n",
        "s1/marks.tsv": ("body\t标题\nmixed\t正文⟦chrome:广告\nmixed\t正文⟦chrome:⟧尾\nmixed\t正文⟦ads:广告⟧尾\n"
                         "mixed\t正文广告⟧尾\nmixed\t只有正文\n"),
        "s2/gbk.tsv": "body\t正文\nchrome\t首页\n".encode("utf-8") + "body\t正文\n".encode("gbk"),
        "s2/empty.tsv": "",
        "s2/bom.tsv": codecs.BOM_UTF8 + "body\t正文\r\nchrome\t首页\r\n".encode("utf-8"),
    })
    result = invoke("train", labeled, "-o", tmp_path / "model")
    assert result.exit_code == 2 and not (tmp_path / "model").exists()
    assert errors(result) == ["error: malformed labeled data:"] + [f"{labeled / path}:{problem}" for path, problem in [
        ("s1/marks.tsv", "2: broken mixed-line mark: unclosed ⟦ at character 3"),
        ("s1/marks.tsv", "3: empty chrome span"),
        ("s1/marks.tsv", "4: broken mixed-line mark: unknown span label 'ads' at character 3 (expected ⟦chrome:…⟧ or ⟦spam:…⟧)"),
        ("s1/marks.tsv", "5: broken mixed-line mark: ⟧ without ⟦ at character 5"),
        ("s1/marks.tsv", "6: mixed line has no ⟦chrome:…⟧ or ⟦spam:…⟧ span"),
        ("s1/rows.tsv", "3: expected LABEL<TAB>TEXT, got '没有制表符的一行'"),
        ("s1/rows.tsv", "4: unknown label 'bodi' (expected one of body, chrome, spam, mixed)"),
        ("s2/empty.tsv", "1: no labeled line in the file"),
        ("s2/gbk.tsv", "3: not UTF-8 (invalid continuation byte at byte 31); labeled files are UTF-8"),
    ]]


def test_evaluate_lists_problems_of_labeled_and_gold_files(tiny_model, tmp_path):
    gold = write_pages(tmp_path / "gold", {
        "broken.json": '{"text": "导航\\n正文",\n "lines": [',
        "list.json": "[1, 2]",
        "lines-not-list.json": json.dumps({"text": "导航\n正文", "lines": 5}),
        "entries.json": json.dumps({"text": "导航\n正文", "lines": ["C", {"n": 3, "label": "B"}, {"n": 1, "label": "Q"},
                                                                     {"n": 2, "label": "B"}]}),
        "no-text.json": json.dumps({"lines": []}),
        "labeled/s/doc.tsv": "body\t正文\nchrom\t首页\n",
    })
    result = invoke("evaluate", gold, "--model", tiny_model)
    assert result.exit_code == 2 and result.stdout == ""
    assert errors(result) == ["error: malformed evaluation data:"] + [f"{gold / problem}" for problem in [
        "broken.json:2: not valid JSON (Expecting value, column 12)",
        "entries.json:1: bad line entry 'C' (entry 1 of 'lines'; n is 1..2, label one of B, C, S, M, I)",
        "entries.json:2: bad line entry {'n': 3, 'label': 'B'} (entry 2 of 'lines'; n is 1..2, label one of B, C, S, M, I)",
        "entries.json:3: bad line entry {'n': 1, 'label': 'Q'} (entry 3 of 'lines'; n is 1..2, label one of B, C, S, M, I)",
        "lines-not-list.json:1: 'lines' is not a list of {\"n\": …, \"label\": …} entries",
        "list.json:1: expected a JSON object with 'text' and 'lines', got list",
        "no-text.json:1: no 'text' string",
    ]]
    labeled = invoke("evaluate", gold / "labeled", "--model", tiny_model)
    assert labeled.exit_code == 2
    assert errors(labeled)[1:] == [f"{gold / 'labeled' / 's' / 'doc.tsv'}:2: unknown label 'chrom' "
                                   "(expected one of body, chrome, spam, mixed)"]
