"""Labeling a stream of document batches in one process or in N worker processes.

Results come back in input order. With workers, repeated-line evidence is counted in the
calling process, in input order and in the same groups one process would count them in, and
handed to the workers with their batch: labels do not depend on how many processes run or
which worker takes which batch.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .filtering import batches as scoring_batches
from .segment import units

# Batches in flight per worker: enough to keep workers busy, few enough to keep memory flat.
AHEAD = 4


class GivenCounts:
    """Repeat counts computed elsewhere, served in order to `featurize` in place of a `RepeatCounter`."""

    def __init__(self, counts: list[np.ndarray]):
        self.counts = list(counts)

    def observe(self, documents: list[list[str]]) -> list[np.ndarray]:
        served, self.counts = self.counts[: len(documents)], self.counts[len(documents) :]
        return served


def unit_texts(documents: list[list[str]]) -> list[list[str]]:
    return [[lines[u.line][u.start : u.end] for u in units(lines)] for lines in documents]


_labeler = None


def _init(model: str | None) -> None:
    global _labeler
    from . import artifacts

    _labeler = artifacts.load(model)


def _work(task: tuple[list[list[str]], GivenCounts | None]):
    documents, counts = task
    return label_safely(_labeler, documents, counts)


def label_safely(labeler, documents: list[list[str]], counter=None) -> list:
    """Labels of each document, or the exception that labeling it raised: a document that
    breaks the labeler must not cost the others in its batch their labels."""
    try:
        return labeler.label_documents(documents, counter)
    except Exception:  # noqa: BLE001 - reported per document by the caller
        if len(documents) == 1:
            return [_failure(labeler, documents[0])]
        # Relabel one by one (without shared counts: the batch's were spent) to find the culprit.
        return [_failure(labeler, doc) for doc in documents]


def _failure(labeler, document: list[str]):
    try:
        return labeler.label_documents([document])[0]
    except Exception as exc:  # noqa: BLE001
        return exc


def label_batches(labeler, batches: Iterable[tuple[object, list[list[str]]]], counter=None, jobs: int = 1,
                  model: Path | None = None) -> Iterator[tuple[object, list]]:
    """For each (tag, documents) batch: (tag, labels of each document), in input order.

    With jobs > 1, `model` is loaded by each worker (None: the shipped model).
    """
    if jobs <= 1:
        for tag, documents in batches:
            yield tag, label_safely(labeler, documents, counter)
        return

    def counted(documents):
        # Counted in the groups `label_documents` would count them in, so labels match one process.
        if counter is None:
            return None
        return GivenCounts([c for group in scoring_batches(documents) for c in counter.observe(unit_texts(group))])

    with multiprocessing.Pool(jobs, initializer=_init, initargs=(str(model) if model else None,)) as pool:
        pending: list[tuple[object, object]] = []
        for tag, documents in batches:
            counts = counted(documents)
            pending.append((tag, pool.apply_async(_work, ((documents, counts),))))
            while len(pending) > jobs * AHEAD or (pending and pending[0][1].ready()):
                done_tag, result = pending.pop(0)
                yield done_tag, result.get()
        for done_tag, result in pending:
            yield done_tag, result.get()
