"""Seeing why, and the annotation loop: --explain, --view, --format labeled, train on the result,
`classifier info`, and the Python interface."""
import json
import re
import shutil

import numpy as np
from typer.testing import CliRunner

from classifier import Classifier, Segment
from classifier.cli import app
from classifier.corpus import load_labeled
from classifier.explain import term_names
from classifier.features import FeatureSettings, hashed
from classifier.segment import split_lines

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def labels_of(model, page) -> list[dict]:
    result = invoke("label", page, "--model", model, "--format", "jsonl", "-q")
    assert result.exit_code == 0
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- Python interface --------------------------------------------------------------------------


def test_api_label_tiles_lines_and_filter_matches_cli(tiny_model, sample_page, tmp_path):
    clf = Classifier.load(tiny_model)
    segments = clf.label(sample_page)
    lines = split_lines(sample_page)
    assert all(isinstance(s, Segment) for s in segments)
    for number, line in enumerate(lines, 1):
        mine = sorted((s for s in segments if s.line == number), key=lambda s: s.start)
        assert mine and mine[0].start == 0 and mine[-1].end == len(line)
        assert all(a.end == b.start for a, b in zip(mine, mine[1:]))
        assert "".join(s.text for s in mine) == line
    assert all(s.label in ("body", "chrome", "spam") and 0.0 <= s.score <= 1.0 for s in segments)
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    cli = invoke("filter", page, "--model", tiny_model, "-q")
    assert clf.filter(sample_page) + "\n" == cli.stdout
    assert [(s.line, s.start, s.end, s.label) for s in segments] == \
        [(r["line"], r["start"], r["end"], r["label"]) for r in labels_of(tiny_model, page)]


def test_api_many_texts_and_bad_input(tiny_model, sample_page):
    clf = Classifier.load(tiny_model)
    bodies = list(clf.filter_many([sample_page, "", sample_page]))
    assert bodies[0] == bodies[2] == clf.filter(sample_page) and bodies[1] == ""
    assert clf.meta["format"] == "classifier-model"
    try:
        clf.filter(b"bytes")
    except TypeError as exc:
        assert "expected str" in str(exc)
    else:
        raise AssertionError("bytes must be refused")


def test_api_load_missing_model_names_the_file(tmp_path):
    from classifier.errors import ModelError

    try:
        Classifier.load(tmp_path / "nowhere")
    except ModelError as exc:
        assert "nowhere" in str(exc) and "no such model directory" in str(exc)
    else:
        raise AssertionError("a missing model must raise ModelError")


# --- explain and view --------------------------------------------------------------------------


def test_term_names_are_the_columns_hashed_features_use():
    settings = FeatureSettings(n_features=2**18)
    text = "发布时间：2024-03-18  来源：本站原创 浏览：1362次"
    columns = set(hashed([text], settings).indices.tolist())
    named = term_names(text, settings)
    assert set(named) == columns  # every named column is one the features set, and none is missing
    assert any(name == 'word "来源"' for names in named.values() for name in names)


def test_explain_shows_label_probability_and_weights(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("label", page, "--model", tiny_model, "--explain", "-q")
    assert result.exit_code == 0
    expected = labels_of(tiny_model, page)
    heads = [line for line in result.stdout.splitlines() if not line.startswith("    ")]
    weights = [line for line in result.stdout.splitlines() if line.startswith("    ")]
    assert len(heads) == len(weights) > 0
    pattern = re.compile(r"^(.+):(\d+) \[(\d+):(\d+)\] (body|chrome|spam) ([\d.]+) \(line model: body ([\d.]+) "
                         r"chrome ([\d.]+) spam ([\d.]+)\)")
    by_line = {}
    for head in heads:
        m = pattern.match(head)
        assert m, head
        assert abs(float(m[7]) + float(m[8]) + float(m[9]) - 1.0) < 0.02
        by_line.setdefault(int(m[2]), set()).add(m[5])
    for record in expected:  # each line's labels in --explain are those `label` gives
        if record["line"] in by_line:
            assert record["label"] in by_line[record["line"]]
    assert all(re.search(r"[+-]\d+\.\d\d \S", line) for line in weights)


def test_view_colours_labels_and_marks_gutter(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("label", page, "--model", tiny_model, "--view", "-q")
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    rows = [line for line in out if " │ " in line][: len(split_lines(sample_page))]
    lines = split_lines(sample_page)
    assert [ANSI.sub("", row).split(" │ ", 1)[1] for row in rows] == lines  # text unchanged
    expected = labels_of(tiny_model, page)
    spam_lines = {r["line"] for r in expected if r["label"] == "spam"}
    assert spam_lines and all("\x1b[31m" in rows[n - 1] for n in spam_lines)
    gutters = [ANSI.sub("", row)[0] for row in rows]
    for number, line in enumerate(lines, 1):
        names = {r["label"] for r in expected if r["line"] == number
                 and line[r["start"]:r["end"]].strip()}
        want = " " if not names else {"body": "B", "chrome": "C", "spam": "S"}[names.pop()] if len(names) == 1 else "M"
        assert gutters[number - 1] == want
    plain = runner.invoke(app, ["label", str(page), "--model", str(tiny_model), "--view", "-q"], env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.stdout


def test_explain_and_view_together_is_refused(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = runner.invoke(app, ["label", str(page), "--model", str(tiny_model), "--explain", "--view"])
    assert result.exit_code == 2 and "pick one" in result.stderr


# --- annotation loop -------------------------------------------------------------------------


def test_prelabeled_files_round_trip_and_train_picks_them_up(tiny_model, corpus_dir, sample_page, tmp_path):
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    (pages / "one.txt").write_text(sample_page, encoding="utf-8")
    (pages / "sub" / "two.txt").write_text(sample_page.replace("同志们：", "各位代表："), encoding="utf-8")
    labeled = tmp_path / "labeled"
    shutil.copytree(corpus_dir, labeled)
    result = invoke("label", pages, "--model", tiny_model, "--format", "labeled", "-o", labeled / "newsite", "-q")
    assert result.exit_code == 0, result.output
    written = labeled / "newsite" / "one.tsv"
    assert written.exists() and (labeled / "newsite" / "sub" / "two.tsv").exists()
    [doc] = load_labeled(written)
    assert doc.lines == split_lines(sample_page)
    predicted = labels_of(tiny_model, pages / "one.txt")
    for i, line in enumerate(doc.lines):
        parts = [r for r in predicted if r["line"] == i + 1 and line[r["start"]:r["end"]].strip()]
        if not parts:
            assert doc.labels[i] is None
        elif len({r["label"] for r in parts}) == 1:
            assert doc.labels[i] == parts[0]["label"]
        else:
            assert doc.labels[i] == "mixed"
            assert {(s, e, n) for s, e, n in doc.spans[i] if line[s:e].strip()} == \
                {(r["start"], r["end"], r["label"]) for r in parts}
    # A person corrects a row, then retrains: the new files are part of the training data.
    text = written.read_text(encoding="utf-8").replace("body\t同志们：", "chrome\t同志们：")
    written.write_text(text, encoding="utf-8")
    model = tmp_path / "model"
    trained = invoke("train", labeled, "-o", model, "--folds", "0")
    assert trained.exit_code == 0, trained.output
    before = sum(1 for _ in corpus_dir.rglob("*.tsv"))
    assert f"{before + 2} documents from 5 sites" in trained.stdout
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    assert meta["training"]["documents"] == before + 2


def test_prelabeled_reserved_marks_are_flagged(tiny_model, tmp_path):
    page = tmp_path / "odd.txt"
    page.write_text("首页 | 范文\n同志们：⟦注⟧我们要认真抓好落实。\n", encoding="utf-8")
    result = invoke("label", page, "--model", tiny_model, "--format", "labeled")
    assert result.exit_code == 0
    assert f"{page}:2: the line holds ⟦ or ⟧" in result.stderr


def test_output_dir_needs_labeled_format(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("label", page, "--model", tiny_model, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "--format labeled" in result.stderr


# --- model card ------------------------------------------------------------------------------


def test_info_describes_the_model(tiny_model, corpus_dir):
    result = invoke("info", "--model", tiny_model)
    assert result.exit_code == 0
    meta = json.loads((tiny_model / "meta.json").read_text(encoding="utf-8"))
    out = result.stdout
    assert "labels       body, chrome, spam" in out
    assert f"{meta['training']['documents']} documents from {meta['training']['sites']} sites" in out
    assert meta["training"]["sha256"] in out
    assert "cross-val    not run" in out  # the test model was trained without folds
    assert f"numpy {np.__version__}" in out and "usable       yes" in out


def test_info_shipped_model_has_cv_scores():
    result = invoke("info")
    assert result.exit_code == 0
    assert re.search(r"cross-val    5 folds grouped by site: body F1 0\.\d{3}", result.stdout)


def test_info_refuses_a_model_of_another_feature_version(tiny_model, tmp_path):
    model = tmp_path / "old"
    shutil.copytree(tiny_model, model)
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    meta["features"]["version"] = 1
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    result = invoke("info", "--model", model)
    assert result.exit_code == 2 and "usable       no" in result.stdout and "feature version 1" in result.stdout
