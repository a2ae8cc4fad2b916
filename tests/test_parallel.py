"""Worker processes: labels equal one process's, in input order, and a worker that dies costs only its batches."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from classifier import filtering
from classifier.parallel import label_batches
from classifier.repeats import RepeatCounter

LABELED = Path(__file__).resolve().parents[1] / "labeled"


@pytest.fixture(scope="module")
def pages():
    from classifier.corpus import load_labeled

    sites = sorted(p for p in LABELED.iterdir() if p.is_dir())[:8]  # sites whose chrome recurs on their pages
    return [doc.lines for site in sites for doc in load_labeled(site)][:45]


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


def test_a_worker_that_dies_costs_only_the_batches_it_held(tiny_model, tiny_model_labeler, pages, monkeypatch):
    original = filtering.Labeler.label_documents

    def fatal(self, documents, *args):
        if any("KILL THIS WORKER" in lines for lines in documents):
            os._exit(9)  # as the kernel's OOM killer would end it
        return original(self, documents, *args)

    monkeypatch.setattr(filtering.Labeler, "label_documents", fatal)  # forked workers inherit it
    poisoned = [list(lines) for lines in pages]
    poisoned[9] = poisoned[9] + ["KILL THIS WORKER"]
    results = dict(label_batches(tiny_model_labeler, in_batches(poisoned), RepeatCounter(), jobs=2, model=tiny_model))
    assert sorted(results) == list(range(0, len(pages), 4))
    lost = results.pop(8)  # the batch of pages 8-11
    assert len(lost) == 4 and all(isinstance(x, RuntimeError) and "exit code 9" in str(x) for x in lost)
    monkeypatch.setattr(filtering.Labeler, "label_documents", original)
    alone = dict(label_batches(tiny_model_labeler, in_batches(pages), None, jobs=1))
    for k, labels in results.items():
        assert all(not isinstance(x, Exception) for x in labels)
        assert len(labels) == len(alone[k])
