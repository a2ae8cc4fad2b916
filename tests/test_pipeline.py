"""`filter --jsonl` in pipes and on files, and the run summary."""
import gzip
import json

import pytest
from typer.testing import CliRunner

from classifier import artifacts
from classifier.cli import app
from classifier.filtering import body_text
from classifier.segment import split_lines

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def body_alone(model, text: str) -> str:
    lines = split_lines(text)
    return body_text(lines, artifacts.load(model).label_documents([lines])[0])


def test_jsonl_stdin_to_stdout_keeps_other_fields(tiny_model, sample_page):
    rows = [{"id": 1, "url": "http://a.example/1", "text": sample_page, "meta": {"k": [1, 2]}},
            {"id": 2, "text": "同志们：\n　　我们要认真抓好落实，确保各项任务圆满完成。", "lang": "zh"}]
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    result = invoke("filter", "--jsonl", "--model", tiny_model, "--no-repeats", "-q", input=stdin.encode("utf-8"))
    assert result.exit_code == 0, result.output
    out = records(result.stdout)
    assert [r["id"] for r in out] == [1, 2]
    for given, got in zip(rows, out):
        assert list(got) == list(given)  # same fields, same order
        assert {k: v for k, v in got.items() if k != "text"} == {k: v for k, v in given.items() if k != "text"}
        assert got["text"] == body_alone(tiny_model, given["text"])
    assert "ICP" not in out[0]["text"] and "同志们：" in out[0]["text"]
    assert result.stderr == ""  # --quiet: no summary


def test_jsonl_body_field_and_dropped_counts(tiny_model, sample_page, tmp_path):
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps({"content": sample_page}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = invoke("filter", "--jsonl", path, "--model", tiny_model, "--text-field", "content",
                    "--body-field", "body", "--dropped-field", "dropped")
    assert result.exit_code == 0
    [got] = records(result.stdout)
    assert got["content"] == sample_page  # the text field is untouched when the body goes elsewhere
    assert got["body"] == body_alone(tiny_model, sample_page)
    lines = split_lines(sample_page)
    kept = set(got["body"].split("\n"))
    dropped_with_text = [line for line in lines if line.strip() and line not in kept]
    assert sum(got["dropped"].values()) == len(dropped_with_text) > 0
    assert set(got["dropped"]) <= {"chrome", "spam"}


def test_jsonl_bad_records_are_reported_and_kept_in_place(tiny_model, sample_page, tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = json.dumps({"id": "a", "text": sample_page}, ensure_ascii=False)
    path.write_text("\n".join([good, "{not json", '{"id": "c"}', '[1, 2]', '{"id": "e", "text": 5}', "",
                               good.replace('"a"', '"f"')]) + "\n", encoding="utf-8")
    result = invoke("filter", "--jsonl", path, "--model", tiny_model)
    assert result.exit_code == 1
    out = records(result.stdout)
    assert len(out) == 6  # one output line per non-blank input line, in order
    assert out[0]["id"] == "a" and out[5]["id"] == "f" and out[0]["text"] == out[5]["text"]
    assert out[1] == {"classifier_raw": "{not json", "classifier_error": out[1]["classifier_error"]}
    assert out[2]["id"] == "c" and "'text' is missing" in out[2]["classifier_error"]
    assert out[3]["classifier_raw"] == "[1, 2]"
    assert out[4]["text"] == 5 and "int, not a string" in out[4]["classifier_error"]
    for number in (2, 3, 4, 5):
        assert f"{path}:{number}: " in result.stderr
    assert "filter: 2 documents" in result.stderr and "4 errors" in result.stderr


def test_jsonl_gzip_files_to_output_dir(tiny_model, sample_page, tmp_path):
    src = tmp_path / "in"
    (src / "part").mkdir(parents=True)
    lines = [json.dumps({"n": k, "text": sample_page}, ensure_ascii=False) for k in range(3)]
    with gzip.open(src / "part" / "a.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    (src / "b.jsonl").write_text(lines[0] + "\n", encoding="utf-8")
    (src / "empty.jsonl").write_text("", encoding="utf-8")
    (src / "notes.txt").write_text("not a JSONL input", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("filter", "--jsonl", src, "-o", out, "--model", tiny_model)
    assert result.exit_code == 0, result.output
    with gzip.open(out / "part" / "a.jsonl.gz", "rt", encoding="utf-8") as f:
        a = records(f.read())
    assert [r["n"] for r in a] == [0, 1, 2] and "同志们：" in a[0]["text"]
    assert records((out / "b.jsonl").read_text(encoding="utf-8"))[0]["text"] == a[0]["text"]
    assert (out / "empty.jsonl").read_text(encoding="utf-8") == ""  # every input gets its output
    assert not (out / "notes.txt").exists()
    assert not [p for p in out.rglob(".*")]  # no temporary files left


def test_jsonl_truncated_gzip_keeps_what_was_read(tiny_model, sample_page, tmp_path):
    data = gzip.compress("".join(json.dumps({"n": k, "text": sample_page}, ensure_ascii=False) + "\n"
                                 for k in range(40)).encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    result = invoke("filter", "--jsonl", path, "--model", tiny_model)
    assert result.exit_code == 1
    out = records(result.stdout)
    good = [r for r in out if "classifier_error" not in r]
    assert good and [r["n"] for r in good] == list(range(len(good)))
    assert "stream ends early" in out[-1]["classifier_error"]
    assert f"{path}:{len(good) + 1}: stream ends early" in result.stderr


def test_jsonl_lone_surrogates_round_trip_escaped(tiny_model):
    line = '{"id": 1, "text": "同志们：\\n　　我们要认真\\ud800抓好落实，确保各项任务圆满完成。"}\n'
    result = invoke("filter", "--jsonl", "--model", tiny_model, "--body-field", "body", input=line.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert "\\ud800" in result.stdout  # written as the escape it came in as
    [got] = records(result.stdout)
    assert got["text"] == "同志们：\n　　我们要认真\ud800抓好落实，确保各项任务圆满完成。"
    assert isinstance(got["body"], str)


def test_plain_files_summary_line(tiny_model, sample_page, tmp_path):
    (tmp_path / "a.txt").write_text(sample_page, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    result = invoke("filter", tmp_path, "--model", tiny_model)
    assert result.exit_code == 1
    summary = result.stderr.strip().splitlines()[-1]
    lines = split_lines(sample_page)
    kept = [line for line in result.stdout.splitlines() if line.strip()]
    # A line counts as dropped when any of its text was (a pasted notice cut out of a kept line too).
    dropped = sum(1 for line in lines if line.strip() and line not in set(kept))
    assert summary.startswith("filter: 1 document, ")
    assert f"{len(kept)} lines kept" in summary and "1 error" in summary
    counts = [int(part.split()[0]) for part in summary.split("dropped ")[1].split(";")[0].split(", ")]
    assert sum(counts) == dropped


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from classifier.progress import Progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with Progress() as progress:
        progress.update()
        assert progress.bar is None  # stderr is not a terminal: silent

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress(quiet=True) as progress:
        assert progress.bar is None
    with Progress() as progress:
        progress.update(3)
        assert progress.bar is not None and progress.bar.n == 3
        progress.bar.refresh()
    assert "3doc" in terminal.getvalue().replace(" ", "")


def test_giant_input_is_labeled_in_parts_that_tile_its_lines(tiny_model, sample_page, tmp_path, monkeypatch):
    from classifier import reading

    monkeypatch.setattr(reading, "GIANT_BYTES", 2000)
    monkeypatch.setattr(reading, "PART_CHARS", 600)
    glued = "".join(line.strip() for line in split_lines(sample_page) if line.strip())
    text = "\n".join(split_lines(sample_page) + [glued * 4] + split_lines(sample_page))
    path = tmp_path / "giant.txt"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size > 2000 and len(glued) * 4 > 1200  # several parts, one line cut inside
    result = invoke("label", path, "--model", tiny_model, "--format", "jsonl", "-q")
    assert result.exit_code == 0
    found = records(result.stdout)
    lines = text.split("\n")
    assert max(r["line"] for r in found) == len(lines)
    for number, line in enumerate(lines, 1):
        mine = sorted((r for r in found if r["line"] == number), key=lambda r: r["start"])
        assert mine and mine[0]["start"] == 0 and mine[-1]["end"] == len(line)
        assert all(a["end"] == b["start"] for a, b in zip(mine, mine[1:]))
    kept: dict[int, list[str]] = {}
    for r in found:
        if r["label"] == "body":
            kept.setdefault(r["line"], []).append(lines[r["line"] - 1][r["start"]:r["end"]])
    body = "\n".join("".join(parts) for _, parts in sorted(kept.items())).strip("\n")
    filtered = invoke("filter", path, "--model", tiny_model, "-q")
    assert filtered.exit_code == 0 and filtered.stdout == body + "\n"
    out = tmp_path / "out"
    written = invoke("filter", path, "--model", tiny_model, "-q", "-o", out)
    assert written.exit_code == 0 and (out / "giant.txt").read_text(encoding="utf-8") == filtered.stdout
    summary = invoke("filter", path, "--model", tiny_model)
    assert "filter: 1 document," in summary.stderr


def test_label_jsonl_adds_the_labels_of_each_record_in_place(tiny_model, sample_page, tmp_path):
    pages = [sample_page, "同志们：\n　　我们要认真抓好落实，确保各项任务圆满完成。", sample_page.replace("\n", "\n\n")]
    path = tmp_path / "pages.jsonl.gz"
    lines = [json.dumps({"id": k, "content": page}, ensure_ascii=False) for k, page in enumerate(pages)]
    lines.insert(2, "{not json")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    result = invoke("label", "--jsonl", path, "--model", tiny_model, "--text-field", "content",
                    "--labels-field", "segments")
    assert result.exit_code == 1 and f"{path}:3: malformed JSON" in result.stderr
    out = records(result.stdout)
    assert [r.get("id") for r in out] == [0, 1, None, 2] and out[2]["classifier_raw"] == "{not json"
    labeler = artifacts.load(tiny_model)
    for record in (out[0], out[1], out[3]):
        assert list(record) == ["id", "content", "segments"]
        page_lines = split_lines(record["content"])
        # The segments tile every line, and keeping their body gives the filter's body.
        for number, line in enumerate(page_lines, start=1):
            mine = [s for s in record["segments"] if s["line"] == number]
            assert mine[0]["start"] == 0 and mine[-1]["end"] == len(line)
            assert all(a["end"] == b["start"] for a, b in zip(mine, mine[1:]))
        kept = [s for s in record["segments"] if s["label"] == "body"]
        alone = labeler.label_documents([page_lines])[0]
        assert [(s["line"], s["start"], s["end"]) for s in kept] == [
            (x.line, x.start, x.end) for x in alone if x.label == "body"]
    files = invoke("label", "--jsonl", path, "--model", tiny_model, "--text-field", "content", "--jobs", "2")
    assert [r.get("labels") for r in records(files.stdout)] == [r.get("segments") for r in out]
    refused = invoke("label", "--jsonl", path, "--model", tiny_model, "--view")
    assert refused.exit_code == 2 and "--jsonl writes JSONL records to stdout" in refused.stderr


@pytest.mark.parametrize("middle_lines, joined", [(3, False), (1, True)])
def test_a_giant_inputs_line_rejoins_only_the_halves_of_one_line(tmp_path, monkeypatch, capsys, middle_lines, joined):
    """Part 1 ends with body on a line part 2 continues; part 2 keeps nothing. Part 3's first line
    continues part 2's last line: the same line as part 1's last only when part 2 is one line."""
    from pathlib import Path

    from classifier import runs
    from classifier.filtering import Kept
    from classifier.reading import Source

    source = Source(tmp_path / "giant.txt", Path("giant.txt"))
    parts = [(runs.PartOf(source, False, True, False), Kept("a\nb", 1, 2, 2, 2, {})),
             (runs.PartOf(source, True, False, False), Kept("", 0, 0, middle_lines, 0, {"chrome": middle_lines})),
             (runs.PartOf(source, True, False, True), Kept("d\ne", 1, 2, 2, 2, {}))]
    monkeypatch.setattr(runs, "label_stream", lambda *args, **kwargs: iter(parts))
    with runs.Run("filter", quiet=True) as run:
        runs.filter_files(None, [], None, None, None, 1, None, run)
    assert capsys.readouterr().out == ("a\nbd\ne\n" if joined else "a\nb\nd\ne\n")
    assert run.tally.documents == 1 and run.tally.kept == 4 and run.tally.dropped["chrome"] == middle_lines


def test_a_giant_input_part_that_fails_leaves_no_line_glued_on_stdout(tmp_path, monkeypatch, capsys):
    """A middle part that cannot be labeled: the next part starts a line of its own, even where it
    continues the failed part's last line. A last part that fails still ends the output's line,
    so the next input's body does not run on from it."""
    from pathlib import Path

    from classifier import runs
    from classifier.filtering import Kept
    from classifier.reading import Source

    giant, other = Source(tmp_path / "giant.txt", Path("giant.txt")), Source(tmp_path / "next.txt", Path("next.txt"))
    parts = [(runs.PartOf(giant, False, True, False), Kept("a\nb", 1, 2, 2, 2, {})),
             (runs.PartOf(giant, True, False, False), ValueError("cannot")),
             (runs.PartOf(giant, True, False, False), Kept("c\nd", 1, 2, 2, 2, {})),
             (runs.PartOf(giant, True, False, True), None),  # stopped decoding: reported where it was read
             (other, Kept("e", 1, 1, 1, 1, {}))]
    monkeypatch.setattr(runs, "label_stream", lambda *args, **kwargs: iter(parts))
    with runs.Run("filter", quiet=True) as run:
        runs.filter_files(None, [], None, None, None, 1, None, run)
    captured = capsys.readouterr()
    assert captured.out == "a\nb\nc\nd\ne\n"
    assert "giant.txt: cannot label: ValueError('cannot')" in captured.err and run.tally.errors == 1


def test_a_giant_inputs_body_written_part_by_part_is_the_body_of_the_whole(monkeypatch, capsys, tmp_path):
    """Random pages of body and chrome runs (blank runs and blank lines among them), cut into parts
    anywhere, as read_parts cuts (at a line break, which neither part keeps, or inside a line):
    with each part labeled as the whole page is, the output is the whole page's body."""
    import random
    from pathlib import Path

    from classifier import runs
    from classifier.filtering import LineLabel, keep
    from classifier.reading import Source

    def labels_of(lines, marks):  # runs of one label within each line; a blank line keeps its own label
        out = []
        for number, (line, mark) in enumerate(zip(lines, marks), 1):
            if not line:
                out.append(LineLabel(number, mark[0] if mark else "chrome", 1.0, 0, 0))
            start = 0
            for end in range(1, len(line) + 1):
                if end == len(line) or mark[end] != mark[start]:
                    out.append(LineLabel(number, mark[start], 1.0, start, end))
                    start = end
        return out

    rng = random.Random(7)
    source = Source(tmp_path / "giant.txt", Path("giant.txt"))
    for _ in range(400):
        text = "".join(rng.choice(["本", "文", " ", "\u3000", "\n", "\n\n", "杂"]) for _ in range(rng.randint(0, 40)))
        # A label per character ("杂" chrome, others body but spaces either), and per empty line.
        chars = [("chrome" if c == "杂" else rng.choice(["body", "chrome"]) if c.isspace() else "body") for c in text]
        lines = text.split("\n")
        marks, at = [], 0
        for line in lines:
            marks.append(chars[at : at + len(line)] or [rng.choice(["body", "chrome"])])
            at += len(line) + 1
        whole = keep(lines, labels_of(lines, marks)).body
        # Cut points: a line break (consumed) or any place inside a line.
        cuts = sorted(rng.sample(range(1, len(text)), min(rng.randint(0, 6), max(len(text) - 1, 0)))) if len(text) > 1 else []
        parts, start, continues = [], 0, False
        for cut in [*cuts, len(text)]:
            if cut <= start:
                continue
            piece, piece_marks = text[start:cut], chars[start:cut]
            piece_lines, pm, at = piece.split("\n"), [], 0
            for line in piece_lines:
                n = text.count("\n", 0, start + at)  # the page's line this piece of line is part of
                # An empty line keeps its label; the empty end of a cut line is chrome, as the
                # labeler makes a blank line that opens a page.
                pm.append(piece_marks[at : at + len(line)] if line else marks[n] if not lines[n] else ["chrome"])
                at += len(line) + 1
            parts.append((piece_lines, pm, continues))
            if cut < len(text) and text[cut] == "\n":
                start, continues = cut + 1, False
            else:
                start, continues = cut, True
        stream = [(runs.PartOf(source, cont, k == 0, k == len(parts) - 1), keep(pl, labels_of(pl, pm)))
                  for k, (pl, pm, cont) in enumerate(parts)]
        monkeypatch.setattr(runs, "label_stream", lambda *args, stream=stream, **kwargs: iter(stream))
        with runs.Run("filter", quiet=True) as run:
            runs.filter_files(None, [], None, None, None, 1, None, run)
        assert capsys.readouterr().out == (whole + "\n" if whole else ""), (text, cuts)
