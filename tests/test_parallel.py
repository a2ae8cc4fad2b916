"""Worker processes: labels equal one process's, in input order, and a worker that dies costs only its batches."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from classifier import filtering
from classifier.errors import WorkerError
from classifier.parallel import label_batches
from classifier.repeats import RepeatCounter

LABELED = Path(__file__).resolve().parents[1] / "labeled"


@pytest.fixture(scope="module")
def pages():
    from classifier.corpus import load_labeled

    sites = sorted(p for p in LABELED.iterdir() if p.is_dir())[:8]  # sites whose chrome recurs on their pages
    return ["\n".join(doc.lines) for site in sites for doc in load_labeled(site)][:45]


@pytest.fixture(scope="module")
def shipped():
    from classifier import artifacts

    return artifacts.load(None)


def in_batches(pages, size=4):
    return [(k, pages[k : k + size]) for k in range(0, len(pages), size)]


@pytest.mark.parametrize("jobs", [2, 3])
def test_workers_give_one_process_labels_in_input_order(shipped, pages, jobs):
    counter = RepeatCounter()
    one = list(label_batches(shipped, in_batches(pages), counter, jobs=1))
    counted = RepeatCounter()
    many = list(label_batches(shipped, in_batches(pages), counted, jobs=jobs))
    assert [tag for tag, _ in many] == [tag for tag, _ in one] == list(range(0, len(pages), 4))
    assert many == one
    assert counted.documents == counter.documents == len(pages) and (counted.table == counter.table).all()
    # Repeat counts reached the workers: without them some page is labeled differently.
    alone = list(label_batches(shipped, in_batches(pages), None, jobs=jobs))
    assert alone == list(label_batches(shipped, in_batches(pages), None, jobs=1))
    assert alone != one


def body_or_fail(lines, labels):
    """A `finish` that fails on one page."""
    if any("FINISH FAILS HERE" in line for line in lines):
        raise ValueError("no body for this one")
    return filtering.keep(lines, labels)


@pytest.mark.parametrize("counted", [True, False])
def test_workers_send_what_finish_makes_of_each_document_and_its_errors_one_by_one(shipped, pages, counted):
    marked = list(pages)
    marked[5] = marked[5] + "\nFINISH FAILS HERE"
    one = list(label_batches(shipped, in_batches(marked), RepeatCounter() if counted else None, jobs=1,
                             finish=body_or_fail))
    many = list(label_batches(shipped, in_batches(marked), RepeatCounter() if counted else None, jobs=2,
                              finish=body_or_fail))
    assert [tag for tag, _ in many] == [tag for tag, _ in one]
    results = [r for _, batch in many for r in batch]
    assert len(results) == len(pages)
    assert isinstance(results[5], ValueError) and str(results[5]) == "no body for this one"
    assert all(isinstance(r, filtering.Kept) for k, r in enumerate(results) if k != 5)
    assert [r for _, batch in one for r in batch if not isinstance(r, ValueError)] == \
        [r for r in results if not isinstance(r, ValueError)]
    # What finish made is what the labels give.
    labels = [r for _, batch in label_batches(shipped, in_batches(marked), RepeatCounter() if counted else None)
              for r in batch]
    from classifier.segment import split_lines

    for k in (0, 17, 44):
        assert results[k] == filtering.keep(split_lines(marked[k]), labels[k])
        assert results[k].body == filtering.body_text(split_lines(marked[k]), labels[k])


def test_a_worker_that_dies_costs_only_the_batches_it_held(tiny_model, tiny_model_labeler, pages, monkeypatch):
    original = filtering.Labeler.label_documents

    def fatal(self, documents, *args):
        if any("KILL THIS WORKER" in lines for lines in documents):
            os._exit(9)  # as the kernel's OOM killer would end it
        return original(self, documents, *args)

    monkeypatch.setattr(filtering.Labeler, "label_documents", fatal)  # forked workers inherit it
    poisoned = list(pages)
    poisoned[9] = poisoned[9] + "\nKILL THIS WORKER"
    results = dict(label_batches(tiny_model_labeler, in_batches(poisoned), RepeatCounter(), jobs=2, model=tiny_model))
    assert sorted(results) == list(range(0, len(pages), 4))
    lost = results.pop(8)  # the batch of pages 8-11
    assert len(lost) == 4 and all(isinstance(x, RuntimeError) and "exit code 9" in str(x) for x in lost)
    monkeypatch.setattr(filtering.Labeler, "label_documents", original)
    alone = dict(label_batches(tiny_model_labeler, in_batches(pages), None, jobs=1))
    for k, labels in results.items():
        assert all(not isinstance(x, Exception) for x in labels)
        assert len(labels) == len(alone[k])


def test_workers_that_cannot_start_end_the_run_instead_of_respawning_forever(shipped, pages, monkeypatch):
    from classifier import artifacts

    def broken(directory=None):
        os._exit(3)

    monkeypatch.setattr(artifacts, "load", broken)  # forked workers inherit it
    with pytest.raises(WorkerError, match="keep ending"):
        list(label_batches(shipped, in_batches(pages), RepeatCounter(), jobs=2))


def test_the_command_reports_workers_that_cannot_start_and_exits(tmp_path, pages):
    import subprocess
    import sys

    for k, page in enumerate(pages[:10]):
        (tmp_path / f"{k}.txt").write_text(page, encoding="utf-8")
    script = (
        "import os, sys\n"
        "from classifier import artifacts, cli\n"
        "parent, load = os.getpid(), artifacts.load\n"
        "artifacts.load = lambda d=None: load(d) if os.getpid() == parent else os._exit(3)\n"
        f"sys.argv = ['classifier', 'filter', '-q', '--jobs', '2', {str(tmp_path)!r}]\n"
        "cli.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "error: worker processes keep ending (exit code 3) before they take any work"


def test_a_full_output_device_is_an_error_not_a_traceback(tmp_path, pages):
    import subprocess
    import sys

    for k, page in enumerate(pages[:10]):
        (tmp_path / f"{k}.txt").write_text(page, encoding="utf-8")
    for jobs in ("1", "2"):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "classifier", "filter", "-q", "--jobs", jobs, str(tmp_path)],
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr == "error: cannot write the output: No space left on device\n"
