"""A datatrove pipeline step: each Document's text becomes its body.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from classifier.datatrove_step import BodyFilter

    LocalPipelineExecutor(pipeline=[JsonlReader("pages/"), BodyFilter(), JsonlWriter("clean/")],
                          tasks=8, workers=8).run()

The same step runs under datatrove's Slurm and Ray executors. Each document's metadata gets
`classifier_dropped` (lines dropped per label, e.g. {"chrome": 12, "spam": 1}). Documents
whose body is empty are dropped (`drop_empty=False` keeps them with empty text). Repeated-line
evidence is counted per task, across the documents that task reads (afresh for each task, also
when one process runs several). A document's counts include the other documents of its batch
(`batch_size`, 64 by default, as in the CLI): a task's bodies equal the CLI's over the same
documents in the same order, unless 64 documents hold more than 4 million characters (the CLI
then takes fewer at a time). Ray needs datatrove 0.5 or newer.
"""
from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from .filtering import body_text, dropped_lines
from .reading import normalize_newlines
from .segment import split_lines

DROPPED_KEY = "classifier_dropped"


class BodyFilter(BaseFilter):
    """Rewrite each document's text to its body; record the lines dropped per label."""

    name = "📄 Body (classifier)"

    def __init__(self, model: str | None = None, batch_size: int = 64, repeats: bool = True,
                 drop_empty: bool = True, exclusion_writer=None):
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        self.model = model
        self.repeats = repeats
        self.drop_empty = drop_empty
        self._labeler = None
        self._counter = None

    def _setup(self, new_task: bool = False) -> None:
        """Load the model once; start a repeat counter for a new task, or for the first batch
        when `filter_batch` is called directly."""
        if self._labeler is None:
            from . import artifacts

            self._labeler = artifacts.load(self.model)
        if self.repeats and (new_task or self._counter is None):
            from .repeats import RepeatCounter

            self._counter = RepeatCounter()

    def run(self, data, rank: int = 0, world_size: int = 1):
        """One task: repeated lines are counted over this task's documents only, also where one
        process runs several tasks one after another (a Slurm job of several tasks, say)."""
        self._setup(new_task=True)
        yield from super().run(data, rank, world_size)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        self._setup()
        documents = [split_lines(normalize_newlines(doc.text)) for doc in batch]
        results: list[bool | tuple[bool, str]] = []
        for doc, lines, labels in zip(batch, documents, self._labeler.label_documents(documents, self._counter)):
            doc.text = body_text(lines, labels)
            dropped = dropped_lines(lines, labels)
            doc.metadata[DROPPED_KEY] = dropped
            for label, count in dropped.items():
                self.stat_update(f"dropped_lines_{label}", value=count)
            results.append((False, "no_body") if self.drop_empty and not doc.text.strip() else True)
        return results
