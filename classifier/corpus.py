"""Labeled documents: the project's `labeled/` files and the gold JSON files used for evaluation.

A labeled file (`labeled/<site>/<doc>.tsv`, format in labeled/README.md) has one row per page
line, `LABEL<TAB>TEXT`; a `mixed` row marks its chrome and spam parts as `⟦chrome:…⟧` spans.
Every problem is reported as `path:line: what is wrong`, all of them at once.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabeledFormatError

LABELS = ("body", "chrome", "spam")
ROW_LABELS = LABELS + ("mixed",)
GOLD_CODES = {"B": "body", "C": "chrome", "S": "spam", "M": "mixed", "I": None}
OPEN, CLOSE = "⟦", "⟧"
SPAN = re.compile(r"⟦(chrome|spam):([^⟦⟧]*)⟧")


@dataclass
class Document:
    """A page with a label per line (None: blank or not scored) and its gold body text."""

    id: str
    site: str
    lines: list[str]
    labels: list[str | None]
    body: str
    # For mixed lines: (start, end, label) pieces that tile the line.
    spans: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    # Patterns the page shows, from `# pattern: a, b` header comments (see evaluation.patterns).
    tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def line_label(self, i: int) -> str | None:
        """One label for line i: a mixed line takes the label holding most of its characters."""
        return self.segment_label(i, 0, len(self.lines[i]))

    def segment_label(self, i: int, start: int, end: int) -> str | None:
        """The label of characters [start, end) of line i: the one holding most of them."""
        label = self.labels[i]
        if label != "mixed":
            return label
        pieces = self.spans.get(i)
        if not pieces:
            return None
        weight = {name: 0 for name in LABELS}
        for s, e, name in pieces:
            if s < end and start < e:
                weight[name] += len(self.lines[i][max(s, start) : min(e, end)].strip())
        best = max(LABELS, key=lambda name: weight[name])
        return best if weight[best] else None


# --- labeled files ------------------------------------------------------------------------


def parse_mixed(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The plain line and its labeled pieces; raises ValueError on a broken mark."""
    plain, pieces, pos = [], [], 0
    offset = 0
    for m in SPAN.finditer(text):
        before = text[pos : m.start()]
        if OPEN in before or CLOSE in before:
            raise ValueError(_broken_mark(text))
        if before:
            pieces.append((offset, offset + len(before), "body"))
            plain.append(before)
            offset += len(before)
        inner = m.group(2)
        if not inner:
            raise ValueError(f"empty {m.group(1)} span")
        pieces.append((offset, offset + len(inner), m.group(1)))
        plain.append(inner)
        offset += len(inner)
        pos = m.end()
    rest = text[pos:]
    if OPEN in rest or CLOSE in rest:
        raise ValueError(_broken_mark(text))
    if rest:
        pieces.append((offset, offset + len(rest), "body"))
        plain.append(rest)
    if not any(name != "body" for _, _, name in pieces):
        raise ValueError("mixed line has no ⟦chrome:…⟧ or ⟦spam:…⟧ span")
    return "".join(plain), pieces


def _broken_mark(text: str) -> str:
    """What is wrong with the first mark of a mixed line that is not `⟦chrome:…⟧` or `⟦spam:…⟧`."""
    start = None
    for i, char in enumerate(text):
        if char == OPEN and start is not None:
            return f"broken mixed-line mark: ⟦ inside a span at character {i + 1}"
        if char == OPEN:
            start = i
        elif char == CLOSE and start is None:
            return f"broken mixed-line mark: ⟧ without ⟦ at character {i + 1}"
        elif char == CLOSE:
            label, colon, _ = text[start + 1 : i].partition(":")
            if not colon or label not in LABELS[1:]:
                return (f"broken mixed-line mark: unknown span label {label if colon else ''!r} at character "
                        f"{start + 1} (expected ⟦chrome:…⟧ or ⟦spam:…⟧)")
            start = None
    return f"broken mixed-line mark: unclosed ⟦ at character {start + 1}"


def _parse_row(row: str) -> tuple[str | None, str, list | None]:
    if "\t" not in row:
        if row.strip():
            raise ValueError(f"expected LABEL<TAB>TEXT, got {row[:40]!r}")
        return None, row, None
    label, text = row.split("\t", 1)
    if not label:
        if text.strip():
            raise ValueError("text without a label (only blank lines go unlabeled)")
        return None, text, None
    if label not in ROW_LABELS:
        raise ValueError(f"unknown label {label!r} (expected one of {', '.join(ROW_LABELS)})")
    if not text.strip():
        return None, text, None
    if label == "mixed":
        plain, pieces = parse_mixed(text)
        return label, plain, pieces
    if OPEN in text or CLOSE in text:
        raise ValueError(f"span marks on a {label} line (only mixed lines carry them)")
    return label, text, None


def parse_labeled(content: str, path: str, site: str) -> tuple[Document | None, list[str]]:
    """A document from a labeled file's text, or None and the list of its problems."""
    rows = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    problems, lines, labels, spans = [], [], [], {}
    header, tags = True, []
    for number, row in enumerate(rows, 1):
        row = row.rstrip("\r")
        if header and row.startswith("#"):
            key, _, value = row[1:].partition(":")
            if key.strip() == "pattern":
                tags.extend(t.strip() for t in value.split(",") if t.strip())
            continue
        header = False
        try:
            label, text, pieces = _parse_row(row)
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        if pieces:
            spans[len(lines)] = pieces
        lines.append(text)
        labels.append(label)
    if not problems and not any(labels):
        problems.append(f"{path}:1: no labeled line in the file")
    if problems:
        return None, problems
    return Document(path, site, lines, labels, _body_of(lines, labels, spans), spans, tuple(tags)), []


def _body_of(lines: list[str], labels: list[str | None], spans: dict) -> str:
    out = []
    for i, (line, label) in enumerate(zip(lines, labels)):
        if label == "body":
            out.append(line)
        elif label == "mixed":
            # A gold mixed line without marked spans has no known body part.
            out.append("".join(line[s:e] for s, e, name in spans.get(i, ()) if name == "body"))
    return "\n".join(out)


def labeled_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tsv") if p.is_file())


def load_labeled(root: str | Path) -> list[Document]:
    """Every labeled file under root; all problems in all files raise one LabeledFormatError."""
    root = Path(root)
    files = [root] if root.is_file() else labeled_files(root)
    docs, problems = [], []
    for path in files:
        try:
            data = path.read_bytes()
            content = data.decode("utf-8-sig")  # a BOM from an editor is not part of the first label
        except OSError as exc:
            problems.append(f"{path}:1: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            problems.append(f"{path}:{line}: not UTF-8 ({exc.reason} at byte {exc.start}); labeled files are UTF-8")
            continue
        # The site is the first folder under the root (labeled/<site>/.../<doc>.tsv).
        parts = path.relative_to(root).parts if path != root else ()
        site = parts[0] if len(parts) > 1 else path.stem if parts else path.parent.name
        doc, found = parse_labeled(content, str(path), site)
        problems.extend(found)
        if doc:
            docs.append(doc)
    if problems:
        raise LabeledFormatError(problems)
    return docs


# --- gold JSON (evaluation format) ----------------------------------------------------------


def parse_gold(data: dict, path: str) -> Document:
    problems = []
    if not isinstance(data, dict):
        raise LabeledFormatError([f"{path}:1: expected a JSON object with 'text' and 'lines', got {type(data).__name__}"])
    text = data.get("text")
    if not isinstance(text, str):
        raise LabeledFormatError([f"{path}:1: no 'text' string"])
    lines = text.split("\n")
    entries = data.get("lines") or []
    if not isinstance(entries, list):
        raise LabeledFormatError([f"{path}:1: 'lines' is not a list of {{\"n\": …, \"label\": …}} entries"])
    labels: list[str | None] = [None] * len(lines)
    for k, entry in enumerate(entries, 1):
        n, code = (entry.get("n"), entry.get("label")) if isinstance(entry, dict) else (None, None)
        if type(n) is not int or not 1 <= n <= len(lines) or code not in GOLD_CODES:
            problems.append(f"{path}:{k}: bad line entry {entry!r} (entry {k} of 'lines'; n is 1..{len(lines)}, "
                            f"label one of {', '.join(GOLD_CODES)})")
            continue
        labels[n - 1] = GOLD_CODES[code] if lines[n - 1].strip() else None
    if problems:
        raise LabeledFormatError(problems)
    body = data.get("body")
    if not isinstance(body, str):
        body = _body_of(lines, labels, {})
    doc_id = str(data.get("id") or Path(path).stem)
    return Document(doc_id, _site_of(doc_id), lines, labels, body)


def _site_of(doc_id: str) -> str:
    return re.sub(r"-\d+$", "", doc_id)


def load_gold(paths: Iterable[Path]) -> list[Document]:
    docs, problems = [], []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            docs.append(parse_gold(data, str(path)))
        except LabeledFormatError as exc:
            problems.extend(exc.problems)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno})")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{path}:1: cannot read gold JSON: {exc}")
    if problems:
        raise LabeledFormatError(problems)
    return docs


def load_documents(paths: Iterable[str | Path]) -> list[Document]:
    """Labeled `.tsv` files and gold `.json` files, from files or directories."""
    docs = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            golds = sorted(p for p in path.rglob("*.json") if p.is_file())
            if golds:
                docs.extend(load_gold(golds))
            if labeled_files(path):
                docs.extend(load_labeled(path))
        elif path.suffix == ".json":
            docs.extend(load_gold([path]))
        elif path.exists():
            docs.extend(load_labeled(path))
        else:
            raise LabeledFormatError([f"{raw}:1: no such file or directory"])
    return docs


def corpus_hash(docs: list[Document]) -> str:
    """A hash of the training data: ids, lines and labels."""
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.id):
        digest.update(doc.id.encode("utf-8", "surrogatepass"))
        for line, label in zip(doc.lines, doc.labels):
            digest.update(f"{label}\t{line}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
