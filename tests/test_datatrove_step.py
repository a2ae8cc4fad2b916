"""The datatrove step gives the same body as the CLI, under datatrove's local executor."""
from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("datatrove")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from classifier.cli import app  # noqa: E402
from classifier.corpus import load_labeled  # noqa: E402
from classifier.datatrove_step import DROPPED_KEY, BodyFilter  # noqa: E402


def test_local_executor_matches_cli(tiny_model, corpus_dir, tmp_path):
    docs = load_labeled(corpus_dir)[:24]
    source = tmp_path / "in"
    source.mkdir()
    with open(source / "pages.jsonl", "w", encoding="utf-8") as f:
        for k, doc in enumerate(docs):
            f.write(json.dumps({"id": f"doc{k:03d}", "text": doc.text}, ensure_ascii=False) + "\n")
    pages = tmp_path / "pages"
    pages.mkdir()
    for k, doc in enumerate(docs):
        (pages / f"doc{k:03d}.txt").write_text(doc.text, encoding="utf-8")

    out = tmp_path / "out"
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(source)), BodyFilter(model=str(tiny_model), drop_empty=False),
                  JsonlWriter(str(out))],
        tasks=1, workers=1, logging_dir=str(tmp_path / "logs"),
    ).run()
    records = []
    for path in sorted(out.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records.extend(json.loads(line) for line in f)
    assert [r["id"] for r in records] == [f"doc{k:03d}" for k in range(len(docs))]

    # The CLI over the same documents in the same order (repeats counted the same way).
    bodies = tmp_path / "bodies"
    cli = CliRunner().invoke(app, ["filter", str(pages), "--model", str(tiny_model), "--output-dir", str(bodies)])
    assert cli.exit_code == 0
    for k, record in enumerate(records):
        assert record["text"] == (bodies / f"doc{k:03d}.txt").read_text(encoding="utf-8").rstrip("\n")
        assert "ICP" not in record["text"]
    assert all(r["text"] for r in records)
    dropped = [r["metadata"][DROPPED_KEY] for r in records]
    assert sum(d.get("chrome", 0) for d in dropped) > len(records)
    assert any(d.get("spam", 0) for d in dropped)
