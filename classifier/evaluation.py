"""Scores against gold labels: per-class line scores, a confusion matrix, and character-level
body scores of the kept text.

Character scores remove all whitespace, then count matched characters as the exact longest
common subsequence (LCS) of the kept text and the gold body. Precision = matched / kept,
recall = matched / gold body; junk removed = of the page's non-body characters (page length
minus gold body length), the share not kept (1 - (kept - matched) / non-body). Totals are
summed over documents before dividing (micro averages).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .corpus import LABELS, Document
from .filtering import LineLabel, body_text

WHITESPACE = re.compile(r"\s+")


def lcs_length(a: str, b: str) -> int:
    """Exact LCS length, bit-parallel (Allison-Dix / Hyyro): O(len(a) * len(b) / wordsize)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def squeeze(text: str) -> str:
    return WHITESPACE.sub("", text)


@dataclass
class CharCounts:
    kept: int = 0
    gold: int = 0
    matched: int = 0
    junk: int = 0

    def add(self, kept: str, gold: str, page: str) -> None:
        kept, gold, page = squeeze(kept), squeeze(gold), squeeze(page)
        matched = lcs_length(kept, gold)
        self.kept += len(kept)
        self.gold += len(gold)
        self.matched += matched
        self.junk += max(len(page) - len(gold), 0)

    @property
    def precision(self) -> float:
        return self.matched / self.kept if self.kept else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def junk_removed(self) -> float:
        return 1.0 - (self.kept - self.matched) / self.junk if self.junk else 1.0


@dataclass
class Report:
    documents: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (gold, predicted) -> lines
    chars: CharCounts = field(default_factory=CharCounts)

    def count(self, gold: str, predicted: str) -> int:
        return self.confusion.get((gold, predicted), 0)

    def per_class(self) -> dict[str, tuple[float, float, float, int]]:
        """label -> (precision, recall, F1, gold support), over lines with a gold label."""
        out = {}
        for label in LABELS:
            tp = self.count(label, label)
            predicted = sum(self.count(g, label) for g in LABELS)
            support = sum(self.count(label, p) for p in LABELS)
            p = tp / predicted if predicted else 1.0
            r = tp / support if support else 1.0
            out[label] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, support)
        return out

    @property
    def spam_kept(self) -> int:
        return self.count("spam", "body")

    @property
    def body_as_spam(self) -> int:
        return self.count("body", "spam")


def score(docs: list[Document], predictions: list[list[LineLabel]]) -> Report:
    report = Report()
    for doc, labels in zip(docs, predictions):
        report.documents += 1
        by_line = {}
        for item in labels:  # a line's label: the one covering most of it
            span = item.end - item.start
            if item.line not in by_line or span > by_line[item.line][1]:
                by_line[item.line] = (item.label, span)
        for i, gold in enumerate(doc.labels):
            if gold in LABELS and doc.lines[i].strip():
                predicted = by_line.get(i + 1, ("chrome", 0))[0]
                report.confusion[(gold, predicted)] = report.count(gold, predicted) + 1
        report.chars.add(body_text(doc.lines, labels), doc.body, doc.text)
    return report


def keep_everything(doc: Document) -> list[LineLabel]:
    """The reference row: every line kept as body."""
    return [LineLabel(i + 1, "body", 1.0, 0, len(line)) for i, line in enumerate(doc.lines)]


def format_report(report: Report, title: str = "") -> str:
    rows = [title] if title else []
    rows.append(f"documents: {report.documents}")
    rows.append(f"{'label':<8} {'precision':>9} {'recall':>7} {'F1':>6} {'lines':>6}")
    for label, (p, r, f, n) in report.per_class().items():
        rows.append(f"{label:<8} {p:>9.3f} {r:>7.3f} {f:>6.3f} {n:>6}")
    rows.append("confusion (rows gold, columns predicted):")
    rows.append(" " * 9 + "".join(f"{p:>8}" for p in LABELS))
    for g in LABELS:
        rows.append(f"{g:<9}" + "".join(f"{report.count(g, p):>8}" for p in LABELS))
    c = report.chars
    rows.append(f"body characters: precision {c.precision:.3f}  recall {c.recall:.3f}  F1 {c.f1:.3f}  "
                f"junk removed {c.junk_removed:.3f}")
    rows.append(f"spam lines kept: {report.spam_kept}  body lines labeled spam: {report.body_as_spam}")
    return "\n".join(rows)


# --- scores per pattern ---------------------------------------------------------------------

_FILE_NAME = re.compile(r"\.(?:docx?|pdf|wps|pptx?|txt)\s*$", re.IGNORECASE)
_SENTENCE = re.compile(r"[。！？!?]")


def patterns(doc: Document) -> set[str]:
    """The hard patterns a gold page shows (see LABELING.md), read from its labels, plus its own tags."""
    from .features import BULLET, LIST_MARKER, PAGE_CHUNK, TRAILING_DATE, _traditional_share
    from .normalize import strip_pinyin

    found = set(doc.tags)
    rows = [(line, label) for line, label in zip(doc.lines, doc.labels) if line.strip() and label]
    if not rows:
        return found
    total = sum(len(line) for line, _ in rows)
    body_at = [k for k, (_, label) in enumerate(rows) if label in ("body", "mixed")]
    if any(label == "spam" for _, label in rows[:3]):
        found.add("spam header")
    if any(label == "spam" for _, label in rows[3:]) or any(
            name == "spam" for pieces in doc.spans.values() for _, _, name in pieces):
        found.add("spam inside the page")
    for line, label in rows:
        if label == "mixed":
            found.add("mixed line")
            if len(line) >= total / 2:
                found.add("one-line page")
        if label in ("body", "mixed") and len(line) >= 2000:
            found.add("long body line")
    if body_at:
        first, last = body_at[0], body_at[-1]
        after = [line.strip() for line, label in rows[last + 1 :] if label == "chrome"]
        if sum(len(s) for s in after if len(s) >= 40 and _SENTENCE.search(s)) >= 100:
            found.add("appended article")
        listed = [line for line, label in rows[first:] if label == "chrome" and len(line.strip()) <= 80
                  and (TRAILING_DATE.search(line.strip()) or BULLET.match(line) or LIST_MARKER.match(line))]
        if len(listed) >= 5:
            found.add("related list")
        title = rows[first][0].strip()
        if 4 <= len(title) <= 60 and any(title in line for line, label in rows if label == "chrome"):
            found.add("title repeated in chrome")
    if any(label == "chrome" and _FILE_NAME.search(line) for line, label in rows):
        found.add("file-name heading")
    body = [line for line, label in rows if label == "body"]
    if sum(bool(PAGE_CHUNK.match(line)) for line in body) >= 2:
        found.add("page chunks")
    if any(strip_pinyin(line) != line for line in body):
        found.add("pinyin after characters")
    if body and _traditional_share("".join(body)[:400]) >= 0.1:
        found.add("traditional characters")
    if all(label == "body" for _, label in rows):
        found.add("body only")
    return found


def score_groups(docs: list[Document], predictions: list[list[LineLabel]], groups_of) -> dict[str, Report]:
    """Scores of the pages of each group, by group name; `groups_of(doc)` names a page's groups."""
    groups: dict[str, list[int]] = {}
    for k, doc in enumerate(docs):
        for name in groups_of(doc):
            groups.setdefault(name, []).append(k)
    return {name: score([docs[k] for k in ks], [predictions[k] for k in ks]) for name, ks in sorted(groups.items())}


def score_by_pattern(docs: list[Document], predictions: list[list[LineLabel]]) -> dict[str, Report]:
    return score_groups(docs, predictions, patterns)


def format_group_report(title: str, column: str, reports: dict[str, Report]) -> str:
    """A table of the groups' scores, one row per group in the order given."""
    rows = [title,
            f"{column:<26} {'pages':>5} {'char P':>7} {'char R':>7} {'char F1':>7} {'junk':>6} "
            f"{'body F1':>7} {'spam kept':>9}"]
    for name, r in reports.items():
        c = r.chars
        rows.append(f"{name:<26} {r.documents:>5} {c.precision:>7.3f} {c.recall:>7.3f} {c.f1:>7.3f} "
                    f"{c.junk_removed:>6.3f} {r.per_class()['body'][2]:>7.3f} {r.spam_kept:>9}")
    return "\n".join(rows)


def format_pattern_report(reports: dict[str, Report]) -> str:
    return format_group_report("per pattern (pages showing it):", "pattern", reports)
