"""Labeling a stream of document batches in one process or in N worker processes.

Results come back in input order, and labels do not depend on how many processes run.
Repeated-line evidence needs every earlier document counted first, so a batch takes two
steps, both in the worker that batch k always goes to (k modulo N):

1. the worker splits the batch's texts into lines, cuts them into units and hashes the units'
   texts into sketch slots (`repeats.sketch_keys`), keeps the units and sends the slots back;
2. the calling process adds the slots to the one `RepeatCounter`, in input order and in the
   groups a single process counts them in, and sends the counts back to the worker, which
   labels the batch from the units it kept, and sends back the labels, or what a `finish`
   function makes of each document's lines and labels (`filter` takes the body and counts:
   less to send, and less for the calling process to do).

The calling process only reads, counts and writes. When a worker dies (killed by the system),
a new one takes its place and labels the batches it held again, without repeat counts; a batch
that kills a second worker comes back as a failure of each of its documents.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import wait
from pathlib import Path

import numpy as np

from .errors import WorkerError
from .filtering import batches as scoring_batches
from .repeats import WIDTH, sketch_keys
from .segment import split_lines, units

# Batches in flight per worker: enough to keep workers busy, few enough to keep memory flat.
AHEAD = 4
# How often (seconds) the calling process checks that its workers are alive while it waits.
POLL = 1.0
# Workers that die while working on nothing (failing to start, say) end the run after this many.
IDLE_DEATHS = 3


class GivenCounts:
    """Repeat counts computed elsewhere, served in order to `featurize` in place of a `RepeatCounter`."""

    def __init__(self, counts: list[np.ndarray]):
        self.counts = list(counts)

    def observe(self, documents: list[list[str]]) -> list[np.ndarray]:
        served, self.counts = self.counts[: len(documents)], self.counts[len(documents) :]
        return served


def label_safely(labeler, documents: list[list[str]], counter=None, doc_units=None) -> list:
    """Labels of each document, or the exception that labeling it raised: a document that
    breaks the labeler must not cost the others in its batch their labels."""
    try:
        return labeler.label_documents(documents, counter, doc_units)
    except Exception:  # noqa: BLE001 - reported per document by the caller
        if len(documents) == 1:
            return [_failure(labeler, documents[0])]
        # Relabel one by one (without shared counts: the batch's were spent) to find the culprit.
        return [_failure(labeler, doc) for doc in documents]


def finished(documents: list[list[str]], results: list, finish=None) -> list:
    """`finish(lines, labels)` of each labeled document (its labels when `finish` is None); a
    document whose labeling or finishing raised gives the exception."""
    if finish is None:
        return results
    out = []
    for lines, labels in zip(documents, results):
        if not isinstance(labels, BaseException):
            try:
                labels = finish(lines, labels)
            except Exception as exc:  # noqa: BLE001 - reported per document by the caller
                labels = exc
        out.append(labels)
    return out


def _failure(labeler, document: list[str]):
    try:
        return labeler.label_documents([document])[0]
    except Exception as exc:  # noqa: BLE001
        return exc


def prepare(documents: list[list[str]], width: int = WIDTH) -> tuple[list, list]:
    """Step 1 of a batch: the units of each piece, and the sketch slots of each scoring group's unit texts."""
    cut, keys = [], []
    for group in scoring_batches(documents):
        group_units = [units(lines) for lines in group]
        keys.append(sketch_keys([[lines[u.line][u.start : u.end] for u in us] for lines, us in zip(group, group_units)],
                                width))
        cut += group_units
    return cut, keys


def _sendable(labels: list) -> list:
    """Labels with each exception made one the calling process can unpickle (some cannot be)."""
    out = []
    for item in labels:
        if isinstance(item, BaseException):
            try:
                pickle.loads(pickle.dumps(item))
            except Exception:  # noqa: BLE001 - any pickling failure: send its description instead
                item = RuntimeError(repr(item))
        out.append(item)
    return out


def _exit_with(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _serve(model: str | None, width: int, finish, tasks, results, current) -> None:
    """A worker: ("prepare", k, texts) -> ("keys", k, keys); ("label", k, counts) labels the
    prepared batch k; ("label", k, texts) labels a batch without repeat counts; each labeled
    batch goes back as ("labels", k, `finished` results). `results` is the worker's own pipe;
    `current` (shared memory) holds the batch being worked on, so that a death is put down to it."""
    from . import artifacts

    # The calling process handles interrupts and ends its workers itself; if it is killed
    # outright, its workers end as well instead of waiting forever on its pipes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _exit_with(os.getppid())
    labeler = artifacts.load(model)
    held: dict[int, tuple[list, list | None]] = {}
    for step, k, payload in iter(tasks.get, None):
        current.value = k
        if step == "prepare":
            documents = [split_lines(text) for text in payload]
            try:
                cut, keys = prepare(documents, width)
            except Exception:  # noqa: BLE001 - the labeling step finds and reports the document
                cut, keys = None, None
            held[k] = (documents, cut)
            results.send(("keys", k, keys))
        else:
            if k in held:
                documents, cut = held.pop(k)
                counts = GivenCounts([c for group in payload for c in group]) if payload is not None else None
                labels = label_safely(labeler, documents, counts, cut)
            else:
                documents = [split_lines(text) for text in payload]
                labels = label_safely(labeler, documents)
            results.send(("labels", k, _sendable(finished(documents, labels, finish))))
        current.value = -1


class _Worker:
    def __init__(self, context, args):
        self.tasks, self.current = context.Queue(), context.Value("q", -1, lock=False)
        # Each worker has its own result pipe: a worker killed in the middle of a message then
        # breaks only its own pipe (the calling process reads EOF), never a lock others need.
        self.results, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, args=(*args, self.tasks, sender, self.current), daemon=True)
        self.process.start()
        sender.close()
        self.held: set[int] = set()  # batches sent to it and not labeled yet
        self.spoke = False  # it sent a message: it started

    def drop(self) -> None:
        self.tasks.cancel_join_thread()  # nobody will read what it still holds
        self.tasks.close()
        self.results.close()


class _Workers:
    """N worker processes, each with its own task queue and result pipe."""

    def __init__(self, jobs: int, model: Path | None, width: int, finish=None):
        self.context = multiprocessing.get_context()
        self.args = (str(model) if model else None, width, finish)
        self.workers = [_Worker(self.context, self.args) for _ in range(jobs)]
        self.idle_deaths = 0

    def send(self, k: int, step: str, payload) -> None:
        worker = self.workers[k % len(self.workers)]
        worker.held.add(k)
        worker.tasks.put((step, k, payload))

    def receive(self) -> list[tuple[str, int, object]]:
        """The next messages; the batches of a worker that died come as ("lost", k, (exit code,
        whether k was being worked on)) each, after every message it finished sending."""
        while True:
            ready = set(wait([w.results for w in self.workers] + [w.process.sentinel for w in self.workers]))
            out = []
            for w, worker in enumerate(self.workers):
                if worker.results in ready:
                    try:
                        message = worker.results.recv()
                    except (EOFError, OSError):  # it died, perhaps in the middle of a message
                        out += self._replace(w)
                        continue
                    worker.spoke = True
                    if message[0] == "labels":
                        worker.held.discard(message[1])
                    out.append(message)
                elif worker.process.sentinel in ready:
                    out += self._replace(w)
            if out:
                return out

    def _replace(self, w: int) -> list[tuple[str, int, object]]:
        worker = self.workers[w]
        worker.process.join()
        if not worker.spoke:
            self.idle_deaths += 1
            if self.idle_deaths >= IDLE_DEATHS:
                raise WorkerError(f"worker processes keep ending (exit code {worker.process.exitcode}) "
                                  "before they take any work")
        code, working = worker.process.exitcode, worker.current.value
        worker.drop()
        self.workers[w] = _Worker(self.context, self.args)
        return [("lost", k, (code, k == working)) for k in sorted(worker.held)]

    def close(self, wait: bool = True) -> None:
        """Stop the workers: after their work when `wait`, at once otherwise (the run was interrupted)."""
        for worker in self.workers:
            if wait and worker.process.is_alive():
                worker.tasks.put(None)
        for worker in self.workers:
            if not wait:
                worker.tasks.cancel_join_thread()  # what was not sent is dropped, not waited on
            else:
                worker.process.join(timeout=POLL)
            if worker.process.is_alive():
                # SIGKILL, not SIGTERM: a worker forked a moment ago still has the calling
                # process's SIGTERM handler, which raises inside it and prints a traceback.
                # Workers write nothing, so there is nothing for them to clean up.
                worker.process.kill()
            worker.process.join()


def label_batches(labeler, batches: Iterable[tuple[object, list[str]]], counter=None, jobs: int = 1,
                  model: Path | None = None, finish=None) -> Iterator[tuple[object, list]]:
    """For each (tag, texts) batch: (tag, result of each text), in input order: the text's labels,
    or `finish(lines, labels)` of its lines and labels (see `finished`), or the exception that
    labeling it raised.

    With jobs > 1, `model` is loaded by each worker (None: the shipped model), and `finish` runs
    in the workers: it must pickle (a module-level function).
    """
    if jobs <= 1:
        for tag, texts in batches:
            documents = [split_lines(text) for text in texts]
            yield tag, finished(documents, label_safely(labeler, documents, counter), finish)
        return
    workers = _Workers(jobs, model, counter.width if counter is not None else WIDTH, finish)
    try:
        yield from _pipeline(workers, batches, counter, jobs)
    except BaseException:
        workers.close(wait=False)
        raise
    workers.close()


def _pipeline(workers: _Workers, batches, counter, jobs: int) -> Iterator[tuple[object, list]]:
    order: deque[tuple[int, object]] = deque()  # (k, tag) of the batches in flight, in input order
    inflight: dict[int, list] = {}  # their texts
    keys: dict[int, object] = {}
    labels: dict[int, list] = {}
    retried: set[int] = set()  # batches being worked on when a worker died
    resent: set[int] = set()  # batches a dead worker held, sent again with their texts
    counted = 0  # the next batch whose keys go into the counter

    def take(message) -> None:
        nonlocal counted
        step, k, payload = message
        if k not in inflight or k in labels:
            return  # nothing more is expected of this batch
        if step == "keys":
            if k >= counted:
                keys[k] = payload
        elif step == "labels":
            labels[k] = payload
        else:  # the worker died holding batch k: it is labeled again (without repeat counts),
            # unless it was the batch being worked on for the second time
            code, working = payload
            resent.add(k)
            if k >= counted:
                keys.setdefault(k, None)  # its keys are still counted if they came; no counts go out
            if working and k in retried:
                labels[k] = [RuntimeError(f"a worker process ended (exit code {code})")] * len(inflight[k])
            else:
                if working:
                    retried.add(k)
                workers.send(k, "label", inflight[k])
        while counted in keys:  # counts go out in input order
            found = keys.pop(counted)
            if found is not None:
                counts = [counter.count(group) for group in found]
                if counted not in resent:
                    workers.send(counted, "label", counts)
            elif counted not in resent:  # the worker could not cut it: it finds and reports the document
                workers.send(counted, "label", None)
            counted += 1

    def oldest() -> tuple[object, list]:
        while order[0][0] not in labels:
            for message in workers.receive():
                take(message)
        k, tag = order.popleft()
        del inflight[k]
        return tag, labels.pop(k)

    for k, (tag, texts) in enumerate(batches):
        order.append((k, tag))
        inflight[k] = texts
        if counter is None:
            workers.send(k, "label", texts)
            counted = k + 1
        else:
            workers.send(k, "prepare", texts)
        while len(order) > jobs * AHEAD or (order and order[0][0] in labels):
            yield oldest()
    while order:
        yield oldest()
