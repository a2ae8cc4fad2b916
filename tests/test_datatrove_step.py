"""The datatrove step gives the same body as the CLI under datatrove's local, Slurm and Ray
executors. Under Slurm and Ray the step is pickled (dill, cloudpickle) and run in other processes.
Each task counts repeated lines over its own documents, as the CLI does over one directory: the
multi-task checks use pages whose bodies depend on those counts (checked first)."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
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

ROOT = Path(__file__).resolve().parent.parent
# A site of labeled/ with the shipped model: some of its pages' bodies change with repeated-line
# counts, and with which of the site's pages were counted (the fixture asserts both).
SITE = "xiezuoke"


@pytest.fixture(autouse=True)
def _no_outer_cluster(monkeypatch):
    """Variables of a Slurm job or a Ray cluster around the test run would steer the executors."""
    for name in list(os.environ):
        if name.startswith("SLURM_") or name in ("RUN_OFFSET", "RAY_ADDRESS"):
            monkeypatch.delenv(name)


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
    records = _records(out)[0]
    assert [r["id"] for r in records] == [f"doc{k:03d}" for k in range(len(docs))]
    assert all(r["metadata"]["file_path"].endswith("pages.jsonl") for r in records)  # the reader's metadata kept

    # The CLI over the same documents in the same order.
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


def _records(out: Path) -> list[list[dict]]:
    """The records of each task's output file, task by task."""
    tasks = []
    for path in sorted(out.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            tasks.append([json.loads(line) for line in f])
    return tasks


def _cli_bodies(pages: Path, out: Path, *options: str) -> list[str]:
    """The shipped model's bodies of the pages of a directory (one CLI run), in name order."""
    result = CliRunner().invoke(app, ["filter", str(pages), "--output-dir", str(out), *options])
    assert result.exit_code == 0, result.output
    return [(out / page.name).read_text(encoding="utf-8").rstrip("\n") for page in sorted(pages.iterdir())]


@pytest.fixture(scope="module")
def site_tasks(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    """One site's pages in two tasks (a JSONL file each), and the CLI's bodies of each task's pages
    filtered on their own."""
    root = tmp_path_factory.mktemp("site")
    docs = [doc for doc in load_labeled(ROOT / "labeled") if doc.site == SITE]
    half = len(docs) // 2
    parts = [docs[:half], docs[half:]]
    source, together = root / "in", root / "together"
    source.mkdir()
    together.mkdir()
    dirs = []
    for p, part in enumerate(parts):
        pages = root / f"pages{p}"
        pages.mkdir()
        with open(source / f"part{p}.jsonl", "w", encoding="utf-8") as f:
            for k, doc in enumerate(part):
                f.write(json.dumps({"id": f"{p}-{k:03d}", "text": doc.text}, ensure_ascii=False) + "\n")
                (pages / f"{k:03d}.txt").write_text(doc.text, encoding="utf-8")
                (together / f"{p}-{k:03d}.txt").write_text(doc.text, encoding="utf-8")
        dirs.append(pages)
    alone = [_cli_bodies(pages, root / f"alone{p}") for p, pages in enumerate(dirs)]
    # The checks below tell something only if these bodies depend on repeated-line counts, and
    # on which pages were counted.
    assert alone[0] != _cli_bodies(dirs[0], root / "unrepeated", "--no-repeats")
    assert alone[1] != _cli_bodies(together, root / "together_out")[half:]
    return source, alone


def _subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for executor processes: this checkout's package first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def _check_tasks(out: Path, alone: list[list[str]]) -> None:
    tasks = _records(out)
    assert [[r["id"] for r in records] for records in tasks] == [
        [f"{p}-{k:03d}" for k in range(len(bodies))] for p, bodies in enumerate(alone)]
    assert [[r["text"] for r in records] for records in tasks] == alone
    for records in tasks:
        assert sum(r["metadata"][DROPPED_KEY].get("chrome", 0) for r in records) > len(records)


def test_local_executor_counts_repeats_per_task(site_tasks, tmp_path):
    source, alone = site_tasks
    out = tmp_path / "out"
    LocalPipelineExecutor(pipeline=[JsonlReader(str(source)), BodyFilter(drop_empty=False), JsonlWriter(str(out))],
                          tasks=2, workers=1, logging_dir=str(tmp_path / "logs")).run()
    _check_tasks(out, alone)


def test_counts_carry_over_from_batch_to_batch_within_a_task(site_tasks, tmp_path):
    """With batches of one document, each document's repeat counts include the task's earlier
    documents: the bodies the library gives with one counter across the batches."""
    from classifier import artifacts
    from classifier.filtering import body_text
    from classifier.repeats import RepeatCounter
    from classifier.segment import split_lines

    source, _ = site_tasks
    labeler = artifacts.load()
    expected = []
    for part in sorted(source.glob("*.jsonl")):
        pages = [split_lines(json.loads(line)["text"]) for line in part.read_text(encoding="utf-8").splitlines()]
        shared = RepeatCounter()
        expected.append([body_text(lines, labeler.label_documents([lines], shared)[0]) for lines in pages])
        fresh = [body_text(lines, labeler.label_documents([lines], RepeatCounter())[0]) for lines in pages]
        if part.name == "part0.jsonl":
            assert expected[-1] != fresh  # these bodies depend on the earlier batches' counts
    out = tmp_path / "out"
    LocalPipelineExecutor(pipeline=[JsonlReader(str(source)), BodyFilter(batch_size=1, drop_empty=False),
                                    JsonlWriter(str(out))],
                          tasks=2, workers=1, logging_dir=str(tmp_path / "logs")).run()
    assert [[r["text"] for r in records] for records in _records(out)] == expected


# Stand-ins for the Slurm commands datatrove calls: sbatch records what it was given and
# answers as sbatch does; srun runs its command here; scontrol names this host.
_SBATCH = """#!/bin/sh
echo "$@" >> "{log}"
echo "Submitted batch job 4242"
"""
_SRUN = """#!/bin/sh
while [ "$#" -gt 0 ]; do
  case "$1" in
    -n|-N|--ntasks|--nodes) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
exec "$@"
"""
_SCONTROL = """#!/bin/sh
echo localhost
"""


@pytest.mark.parametrize("tasks_per_job", [1, 2])
def test_slurm_executor_counts_repeats_per_task(site_tasks, tmp_path, monkeypatch, tasks_per_job):
    """SlurmPipelineExecutor dill-pickles the pipeline, writes a launch script and submits it as an
    array job. Here each array task runs that script as Slurm would (bash, with the task's id in
    SLURM_ARRAY_TASK_ID), one after another; with two tasks per job one process runs both."""
    from datatrove.executor import SlurmPipelineExecutor

    source, alone = site_tasks
    tools, submitted = tmp_path / "bin", tmp_path / "submitted"
    tools.mkdir()
    for name, text in (("sbatch", _SBATCH.format(log=submitted)), ("srun", _SRUN), ("scontrol", _SCONTROL)):
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    # launch_pickled_pipeline is a console script of this environment's datatrove.
    path = os.pathsep.join([str(tools), str(Path(sys.executable).parent), os.environ["PATH"]])
    monkeypatch.setenv("PATH", path)

    logs, out = tmp_path / "logs", tmp_path / "out"
    SlurmPipelineExecutor(
        pipeline=[JsonlReader(str(source)), BodyFilter(drop_empty=False), JsonlWriter(str(out))],
        tasks=2, tasks_per_job=tasks_per_job, time="00:10:00", partition="any", job_name="bodies",
        logging_dir=str(logs),
    ).run()
    script = logs / "launch_script.slurm"
    jobs = 2 // tasks_per_job
    assert f"#SBATCH --array=0-{jobs - 1}" in script.read_text()
    assert "--export=ALL,RUN_OFFSET=0" in submitted.read_text()
    assert not out.exists()  # submitted, not run
    for task in range(jobs):
        env = _subprocess_env(SLURM_ARRAY_TASK_ID=str(task), RUN_OFFSET="0", SLURM_NODELIST="localhost")
        done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    _check_tasks(out, alone)


_RAY_RUN = """
import sys
import ray
from datatrove.executor import RayPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from classifier.datatrove_step import BodyFilter

source, out, logs, temp = sys.argv[1:]
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
         object_store_memory=100 * 2**20, _temp_dir=temp)
try:
    RayPipelineExecutor(pipeline=[JsonlReader(source), BodyFilter(drop_empty=False), JsonlWriter(out)],
                        tasks=2, workers=2, mem_per_cpu_gb=0.25, logging_dir=logs).run()
finally:
    ray.shutdown()
"""


def test_ray_executor_counts_repeats_per_task(site_tasks, tmp_path):
    """RayPipelineExecutor sends the pickled pipeline to Ray worker processes, one task per file.
    A local Ray instance, started in a process of its own that the test may end."""
    pytest.importorskip("ray")
    source, alone = site_tasks
    out, logs = tmp_path / "out", tmp_path / "logs"
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(_RAY_RUN), str(source), str(out), str(logs), temp],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_subprocess_env())
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    task_logs = "".join(path.read_text(errors="replace")[-2000:] for path in sorted(logs.glob("logs/*.log")))
    assert done.returncode == 0, done.stderr[-3000:] + task_logs
    assert len(_records(out)) == 2, task_logs or done.stderr[-3000:]
    _check_tasks(out, alone)
