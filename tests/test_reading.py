import codecs

import pytest

from classifier.errors import InputError
from classifier.reading import (
    Source,
    decode,
    iter_sources,
    normalize_newlines,
    read_text,
)

TEXT = "在全县工作会议上的讲话\n同志们：\n今天召开会议。"


@pytest.mark.parametrize("data", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    (TEXT * 20).encode("gb18030"),
])
def test_decode_detects_encodings(data):
    assert decode(data).startswith(TEXT)


def test_decode_big5():
    text = "當前位置：首頁。各位同志，今天我們召開全縣工作會議，研究部署今年的重點工作任務。" * 5
    assert decode(text.encode("big5")) == text


def test_newlines_are_universal():
    assert normalize_newlines("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert decode("一\r\n二\r三".encode()).split("\n") == ["一", "二", "三"]


def test_encoding_override_and_its_error():
    assert decode(TEXT.encode("gbk"), encoding="gbk") == TEXT
    with pytest.raises(InputError, match="page.txt:1: cannot decode as utf-8"):
        decode(b"\xff\xfe\xfa", "page.txt", encoding="utf-8")


def test_binary_input_is_reported_with_its_name():
    with pytest.raises(InputError, match="blob.txt: looks like a binary file"):
        decode(bytes(range(256)) * 4, "blob.txt")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match="nope.txt: cannot read"):
        read_text(tmp_path / "nope.txt")


def test_iter_sources_walks_directories_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    found = list(iter_sources([str(tmp_path), str(tmp_path / "missing.txt")]))
    assert [s.relative.as_posix() for s in found if isinstance(s, Source)] == ["a.txt", "b/2.txt"]
    assert isinstance(found[-1], InputError) and "missing.txt" in str(found[-1])


def test_no_path_means_stdin():
    (source,) = list(iter_sources([]))
    assert source.path is None and source.name == "<stdin>"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_read_parts_give_the_text_back(tmp_path, monkeypatch, encoding):
    import random

    from classifier import reading

    rng = random.Random(encoding)
    pieces = ["我们要认真抓好落实", "，", "。", "\n", "\r\n", "\r", "首页 | 范文", "　　", " ", "确保任务完成", "！"]
    text = "".join(rng.choice(pieces) for _ in range(6000)) + "长" * 3000
    path = tmp_path / "giant.txt"
    path.write_bytes(text.encode(encoding))
    monkeypatch.setattr(reading, "READ_BYTES", 777)  # reads that cut characters and \r\n pairs
    parts = list(reading.read_parts(path, "gb18030" if encoding == "gb18030" else None, part_chars=500))
    rebuilt = parts[0].text + "".join(("" if p.continues_line else "\n") + p.text for p in parts[1:])
    assert rebuilt == normalize_newlines(text)
    assert [p.last for p in parts] == [False] * (len(parts) - 1) + [True]
    assert all(len(p.text) <= 1000 for p in parts) and len(parts) > 20
    assert any(p.continues_line for p in parts)  # the 3000-character line was cut inside


def test_read_parts_reports_where_decoding_stops(tmp_path):
    from classifier.reading import read_parts

    path = tmp_path / "bad.txt"
    path.write_bytes("同志们：".encode("utf-8") * 10 + b"\xff\xfe" + "好".encode("utf-8"))
    with pytest.raises(InputError, match=r"bad.txt: cannot decode as utf-8 near byte 120"):
        list(read_parts(path, "utf-8"))
