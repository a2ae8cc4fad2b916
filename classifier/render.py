"""Labels written for people: pre-labeled files in the `labeled/` format, and the page in colour."""
from __future__ import annotations

from collections.abc import Iterator

from .corpus import CLOSE, OPEN
from .filtering import LineLabel

COLOURS = {"body": None, "chrome": "bright_black", "spam": "red"}
GUTTER = {"body": "B", "chrome": "C", "spam": "S"}


def by_line(lines: list[str], labels: list[LineLabel]) -> list[list[LineLabel]]:
    rows: list[list[LineLabel]] = [[] for _ in lines]
    for item in labels:
        rows[item.line - 1].append(item)
    for row in rows:
        row.sort(key=lambda item: item.start)
    return rows


def labeled_rows(lines: list[str], labels: list[LineLabel], source: str) -> tuple[list[str], list[str]]:
    """The rows of a labeled file for one page (format in labeled/README.md), and the problems a
    person has to fix before training on it (text holding the reserved ⟦ or ⟧)."""
    rows, problems = [f"# source: {source}"], []
    for number, (line, items) in enumerate(zip(lines, by_line(lines, labels)), 1):
        if not line.strip():
            rows.append(f"\t{line}" if line else "")
            continue
        if OPEN in line or CLOSE in line:
            problems.append(f"{source}:{number}: the line holds {OPEN} or {CLOSE}, which labeled files reserve; "
                            f"edit row {len(rows) + 1} before training")
        names = {item.label for item in items if line[item.start : item.end].strip()} or {"body"}
        if len(names) == 1:
            rows.append(f"{names.pop()}\t{line}")
            continue
        parts = []
        for item in items:
            piece = line[item.start : item.end]
            parts.append(piece if item.label == "body" or not piece.strip() else f"{OPEN}{item.label}:{piece}{CLOSE}")
        rows.append("mixed\t" + "".join(parts))
    return rows, problems


def coloured_lines(lines: list[str], labels: list[LineLabel], style) -> Iterator[str]:
    """Each page line with a gutter (B, C, S; M for a mixed line) and its segments coloured by label.

    `style(text, fg)` colours a piece of text (typer.style, or a no-op)."""
    for line, items in zip(lines, by_line(lines, labels)):
        names = {item.label for item in items if line[item.start : item.end].strip()}
        gutter = " " if not names else GUTTER[names.pop()] if len(names) == 1 else "M"
        pieces = []
        for item in items:
            piece = line[item.start : item.end]
            colour = COLOURS[item.label]
            pieces.append(style(piece, colour) if colour and piece else piece)
        yield f"{gutter} │ " + "".join(pieces)


def legend(style) -> str:
    return "  ".join(style(f"{GUTTER[name]} {name}", colour) if colour else f"{GUTTER[name]} {name}"
                     for name, colour in COLOURS.items()) + "  M mixed"
