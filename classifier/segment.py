"""Segmenting a document into units: lines, with blank lines kept in place."""
from __future__ import annotations


def split_lines(text: str) -> list[str]:
    """The document's lines; `text` has universal newlines already (see reading.normalize_newlines)."""
    return text.split("\n")


def is_blank(line: str) -> bool:
    return not line.strip()


def content_indices(lines: list[str]) -> list[int]:
    """Indices of the lines that carry text; blank lines are decided from their neighbours."""
    return [i for i, line in enumerate(lines) if line.strip()]
