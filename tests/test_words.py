"""The compiled segmenter gives jieba's own words on our text, so features do not depend on which runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from classifier import words
from classifier.corpus import load_labeled
from classifier.features import FeatureSettings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(words.backend() != "rjieba", reason="rjieba is not installed: jieba itself runs")
def test_compiled_segmenter_matches_jieba_on_corpus_heads():
    settings = FeatureSettings()
    docs = load_labeled(ROOT / "labeled")
    heads = sorted({line.strip()[: settings.word_chars] for d in docs[::4] for line in d.lines if line.strip()})
    assert len(heads) > 2000
    mismatched = [h for h in heads if words.cut(h) != words.jieba_cut(h)]
    assert not mismatched, mismatched[:5]


def test_cut_keeps_every_character():
    text = "同志们：今天召开全市安全生产工作会议，执行(zhí)xing 2024年"
    assert "".join(words.cut(text)) == text


def test_cut_keeps_lone_surrogates():
    text = "同志们\ud800今天开会\udfff"
    assert "".join(words.cut(text)) == text and "\ud800" in words.cut(text)
    assert "".join(words.cut_joined(text + "\n" + text)) == text + "\n" + text


def test_cutting_many_texts_at_once_gives_each_text_its_words():
    settings = FeatureSettings()
    docs = load_labeled(ROOT / "labeled")
    heads = sorted({line.strip()[: settings.word_chars] for d in docs[::8] for line in d.lines}) + ["", " a  b ", "甲"]
    tokens = words.cut_joined("\n".join(heads))
    assert "".join(tokens).split("\n") == heads
    each: list[list[str]] = [[]]
    for token in tokens:
        if token == "\n":
            each.append([])
        else:
            each[-1].append(token)
    assert each == [words.cut(h) for h in heads]
