"""The datatrove step gives the same body as the CLI under datatrove's local, Slurm and Ray
executors. Under Slurm and Ray the step is pickled (dill, cloudpickle) and run in other processes;
each task counts repeated lines over its own files, as the CLI does over one directory."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

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


def _parts(docs, tmp_path: Path, parts: int) -> tuple[Path, list[Path]]:
    """The documents split into `parts` JSONL files (one per task) and as many page directories."""
    source = tmp_path / "in"
    source.mkdir()
    dirs, size = [], -(-len(docs) // parts)
    for p in range(parts):
        pages = tmp_path / f"pages{p}"
        pages.mkdir()
        with open(source / f"part{p}.jsonl", "w", encoding="utf-8") as f:
            for k, doc in enumerate(docs[p * size : (p + 1) * size]):
                f.write(json.dumps({"id": f"{p}-{k:03d}", "text": doc.text}, ensure_ascii=False) + "\n")
                (pages / f"{k:03d}.txt").write_text(doc.text, encoding="utf-8")
        dirs.append(pages)
    return source, dirs


def _check_tasks(out: Path, dirs: list[Path], model: Path, tmp_path: Path) -> None:
    """Task p's output file holds the CLI's bodies of directory p, in order."""
    files = sorted(out.glob("*.jsonl.gz"))
    assert len(files) == len(dirs)
    for p, (path, pages) in enumerate(zip(files, dirs)):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        names = sorted(pages.iterdir())
        assert [r["id"] for r in records] == [f"{p}-{k:03d}" for k in range(len(names))]
        bodies = tmp_path / f"bodies{p}"
        cli = CliRunner().invoke(app, ["filter", str(pages), "--model", str(model), "--output-dir", str(bodies)])
        assert cli.exit_code == 0
        for record, name in zip(records, names):
            assert record["text"] == (bodies / name.name).read_text(encoding="utf-8").rstrip("\n")
        assert sum(r["metadata"][DROPPED_KEY].get("chrome", 0) for r in records) > len(records)


def test_slurm_executor_tasks_match_cli(tiny_model, corpus_dir, tmp_path, monkeypatch):
    """SlurmPipelineExecutor pickles the pipeline with dill and submits an array job; here a
    stand-in `sbatch` takes the job, and each array task runs as Slurm would run it: datatrove's
    `launch_pickled_pipeline` in a new process, with the task's id in SLURM_ARRAY_TASK_ID."""
    from datatrove.executor import SlurmPipelineExecutor

    docs = load_labeled(corpus_dir)[:24]
    source, dirs = _parts(docs, tmp_path, 2)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    submitted = tmp_path / "submitted"
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\necho "$@" >> {submitted}\necho "Submitted batch job 4242"\n')
    (bin_dir / "scontrol").write_text("#!/bin/sh\necho localhost\n")  # `scontrol show hostnames NODELIST`
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    logs, out = tmp_path / "logs", tmp_path / "out"
    SlurmPipelineExecutor(
        pipeline=[JsonlReader(str(source)), BodyFilter(model=str(tiny_model), drop_empty=False), JsonlWriter(str(out))],
        tasks=2, time="00:10:00", partition="any", job_name="bodies", logging_dir=str(logs),
    ).run()
    assert submitted.read_text().count("\n") >= 1 and (logs / "executor.pik").exists()
    assert not out.exists()  # submitted, not run
    for task in range(2):
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_NODELIST": "localhost"}
        done = subprocess.run([sys.executable, "-m", "datatrove.tools.launch_pickled_pipeline", str(logs / "executor.pik")],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    _check_tasks(out, dirs, tiny_model, tmp_path)


def test_ray_executor_tasks_match_cli(tiny_model, corpus_dir, tmp_path):
    """RayPipelineExecutor sends the pickled pipeline to Ray worker processes, one task per file."""
    ray = pytest.importorskip("ray")
    from datatrove.executor import RayPipelineExecutor

    docs = load_labeled(corpus_dir)[:24]
    source, dirs = _parts(docs, tmp_path, 2)
    out = tmp_path / "out"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    try:
        RayPipelineExecutor(
            pipeline=[JsonlReader(str(source)), BodyFilter(model=str(tiny_model), drop_empty=False), JsonlWriter(str(out))],
            tasks=2, workers=2, mem_per_cpu_gb=0.5, logging_dir=str(tmp_path / "logs"),
        ).run()
    finally:
        ray.shutdown()
    _check_tasks(out, dirs, tiny_model, tmp_path)
