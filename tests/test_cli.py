import json
import os

from typer.testing import CliRunner

from classifier.cli import app

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("filter", "label", "train", "evaluate"):
        assert command in result.output


def test_filter_file_prints_body_only(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("filter", page, "--model", tiny_model)
    assert result.exit_code == 0
    assert "同志们：" in result.stdout and "ICP" not in result.stdout
    assert page.read_text(encoding="utf-8") == sample_page  # input untouched


def test_filter_stdin(tiny_model, sample_page):
    result = invoke("filter", "--model", tiny_model, input=sample_page.encode("gb18030"))
    assert result.exit_code == 0 and "谢谢大家！" in result.stdout


def test_filter_output_dir_mirrors_relative_paths(tiny_model, sample_page, tmp_path):
    src = tmp_path / "in"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "p1.txt").write_text(sample_page, encoding="utf-8")
    (src / "p2.txt").write_text(sample_page.replace("\n", "\r\n"), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("filter", src, "--model", tiny_model, "--output-dir", out)
    assert result.exit_code == 0
    one = (out / "a" / "b" / "p1.txt").read_text(encoding="utf-8")
    two = (out / "p2.txt").read_text(encoding="utf-8")
    assert "同志们：" in one and one == two


def test_filter_reports_missing_file_and_goes_on(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("filter", tmp_path / "missing.txt", page, "--model", tiny_model)
    assert result.exit_code == 1
    assert "missing.txt: no such file or directory" in result.stderr
    assert "同志们：" in result.stdout


def test_label_jsonl_records(tiny_model, sample_page, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(sample_page, encoding="utf-8")
    result = invoke("label", page, "--model", tiny_model, "--format", "jsonl")
    assert result.exit_code == 0
    records = [json.loads(row) for row in result.stdout.splitlines()]
    lines = sample_page.split("\n")
    assert sorted({r["line"] for r in records}) == list(range(1, len(lines) + 1))
    assert all(r["path"] == str(page) and r["label"] in ("body", "chrome", "spam") for r in records)
    for n, line in enumerate(lines, 1):  # each line is covered exactly once, by one or more segments
        spans = [(r["start"], r["end"]) for r in records if r["line"] == n]
        assert spans[0][0] == 0 and spans[-1][1] == len(line) and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    notice = [r for r in records if "省略" in lines[r["line"] - 1][r["start"] : r["end"]]]
    assert notice and all(r["label"] == "chrome" and r["end"] - r["start"] < len(lines[r["line"] - 1]) for r in notice)
    assert records[0]["label"] == "spam"


def test_label_tsv(tiny_model, sample_page):
    result = invoke("label", "-", "--model", tiny_model, "--format", "tsv", input=sample_page)
    rows = [row.split("\t") for row in result.stdout.splitlines()]
    assert result.exit_code == 0 and all(len(r) == 6 and r[0] == "<stdin>" for r in rows)
    assert float(rows[0][5]) > 0.5


def test_bad_model_exits_2_with_one_line(tmp_path, sample_page):
    result = invoke("filter", "--model", tmp_path, input=sample_page)
    assert result.exit_code == 2
    assert "no model here" in result.stderr


def test_train_writes_model_and_prints_cv(corpus_dir, tmp_path):
    out = tmp_path / "model"
    result = invoke("train", corpus_dir, "--output", out, "--folds", "2")
    assert result.exit_code == 0, result.output
    assert "cross-validation, 2 folds grouped by site" in result.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["cv"]["grouped_by"] == "site" and meta["training"]["documents"] == 20
    assert len(meta["training"]["sha256"]) == 64
    # Held-out scores per pattern and the weakest sites, printed and kept in the model card.
    assert "per pattern (pages showing it):" in result.stdout and "weakest sites (of " in result.stdout
    patterns, weakest = meta["cv"]["patterns"], meta["cv"]["weakest_sites"]
    assert patterns and all(0 <= s["char_f1"] <= 1 and s["pages"] >= 1 for s in patterns.values())
    assert sum(s["pages"] for s in weakest) <= 20 and [s["char_f1"] for s in weakest] == sorted(s["char_f1"] for s in weakest)
    for s in weakest:
        assert f"\n{s['site']} " in result.stdout.split("weakest sites")[1]
    card = invoke("info", "--model", out)
    assert card.exit_code == 0 and f"weak site  {weakest[0]['site']}:" in card.stdout


def test_train_reports_malformed_files(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "d.tsv").write_text("body\t好\nwrong\t坏\n", encoding="utf-8")
    result = invoke("train", tmp_path, "--output", tmp_path / "m")
    assert result.exit_code == 2 and "d.tsv:2: unknown label 'wrong'" in result.stderr


def test_evaluate_prints_scores(corpus_dir, tiny_model):
    result = invoke("evaluate", corpus_dir, "--model", tiny_model, "--baseline")
    assert result.exit_code == 0
    assert "keep every line:" in result.stdout and "junk removed" in result.stdout
    assert "confusion (rows gold, columns predicted)" in result.stdout


def test_shipped_model_filters_the_example_page():
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "examples" / "speech-page.txt"
    result = invoke("filter", page)
    assert result.exit_code == 0
    body = result.stdout
    assert body.startswith("在全镇春季农业生产暨防汛备汛工作会议上的讲话")
    assert "同志们：" in body and "谢谢大家！" in body and "二、立足防大汛抗大灾" in body
    for junk in ("彩票", "当前位置", "浏览：", "上一篇", "相关推荐", "ICP", "本文链接"):
        assert junk not in body


def test_filter_jobs_gives_the_same_output_in_input_order(tiny_model, corpus_dir, tmp_path):
    from classifier.corpus import load_labeled

    pages = tmp_path / "pages"
    pages.mkdir()
    for k, doc in enumerate(load_labeled(corpus_dir)[:40]):
        (pages / f"{k:03d}.txt").write_text(doc.text, encoding="utf-8")
    one = invoke("filter", pages, "--model", tiny_model)
    two = invoke("filter", pages, "--model", tiny_model, "--jobs", "2")
    assert one.exit_code == 0 and two.exit_code == 0
    assert one.stdout.strip() and two.stdout == one.stdout
    labels_one = invoke("label", pages, "--model", tiny_model)
    labels_two = invoke("label", pages, "--model", tiny_model, "-j", "2")
    paths = [json.loads(line)["path"] for line in labels_two.stdout.splitlines()]
    assert labels_two.stdout == labels_one.stdout and paths == sorted(paths)


def test_jobs_zero_means_one_worker_per_usable_cpu(tiny_model, corpus_dir, tmp_path, monkeypatch):
    import joblib

    from classifier import cli, runs
    from classifier.corpus import load_labeled

    assert 1 <= cli._jobs(0) == joblib.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert cli._jobs(0) <= len(os.sched_getaffinity(0))
    assert cli._jobs(5) == 5
    monkeypatch.setattr(joblib, "cpu_count", lambda: 3)
    pages = tmp_path / "pages"
    pages.mkdir()
    for k, doc in enumerate(load_labeled(corpus_dir)[:12]):
        (pages / f"{k:03d}.txt").write_text(doc.text, encoding="utf-8")
    seen = []
    real = runs.filter_files
    monkeypatch.setattr(cli, "filter_files", lambda *args: seen.append(args[5]) or real(*args))
    zero = invoke("filter", pages, "--model", tiny_model, "--jobs", "0")
    assert zero.exit_code == 0 and seen == [3]
    assert zero.stdout == invoke("filter", pages, "--model", tiny_model).stdout
    assert invoke("filter", pages, "--jobs", "-1").exit_code == 2
