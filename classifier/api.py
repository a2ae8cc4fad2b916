"""The Python interface: load a model once, label or filter texts.

    from classifier import Classifier

    clf = Classifier.load()                 # the shipped model; or Classifier.load("models/mine")
    clf.filter(page_text)                   # the body, line breaks kept
    for seg in clf.label(page_text):        # segments tiling every line, in order
        print(seg.line, seg.start, seg.end, seg.label, seg.score, seg.text)
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .filtering import Labeler, LineLabel, body_text
from .segment import split_lines


@dataclass(frozen=True)
class Segment:
    """Characters [start, end) of 1-based `line`, their label and its probability."""

    line: int
    start: int
    end: int
    label: str
    score: float
    text: str


class Classifier:
    """A loaded model. `label` and `filter` take one page's text; `label_many` and `filter_many`
    take many, and with `repeats=True` use lines recurring across them as evidence of chrome."""

    def __init__(self, labeler: Labeler):
        self.labeler = labeler

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        """The model directory at `path` (None: the shipped model). Raises `ModelError`."""
        from . import artifacts

        return cls(artifacts.load(path))

    @property
    def meta(self) -> dict:
        return self.labeler.meta

    def label(self, text: str) -> list[Segment]:
        return next(self.label_many([text]))

    def filter(self, text: str) -> str:
        return next(self.filter_many([text]))

    def label_many(self, texts: Iterable[str], repeats: bool = False) -> Iterator[list[Segment]]:
        for lines, labels in self._labeled(texts, repeats):
            yield [_segment(lines, item) for item in labels]

    def filter_many(self, texts: Iterable[str], repeats: bool = False) -> Iterator[str]:
        for lines, labels in self._labeled(texts, repeats):
            yield body_text(lines, labels)

    def _labeled(self, texts: Iterable[str], repeats: bool) -> Iterator[tuple[list[str], list[LineLabel]]]:
        counter = None
        if repeats:
            from .repeats import RepeatCounter

            counter = RepeatCounter()
        chunk: list[list[str]] = []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"expected str, got {type(text).__name__}")
            chunk.append(split_lines(text))
            if len(chunk) >= 64:
                yield from self._run(chunk, counter)
                chunk = []
        if chunk:
            yield from self._run(chunk, counter)

    def _run(self, documents: list[list[str]], counter) -> Iterator[tuple[list[str], list[LineLabel]]]:
        yield from zip(documents, self.labeler.label_documents(documents, counter))


def _segment(lines: list[str], item: LineLabel) -> Segment:
    return Segment(item.line, item.start, item.end, item.label, item.score, lines[item.line - 1][item.start : item.end])
