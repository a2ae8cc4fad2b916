"""An HTML report of an evaluation: the scores `classifier evaluate` prints, the confusion matrix,
and every document with its lines coloured by gold and by predicted label, errors marked.

The page is one self-contained UTF-8 file: inline CSS, no script, nothing fetched, all page text
escaped. A line shows its gold label as a bar on the left and its predicted segments as
background; on a mixed gold line the gold pieces are also underlined. A line is wrong (✗) when
any of its non-blank characters is predicted with a label other than its gold one; lines with no
gold label (blank, unscored, or mixed without spans, as in gold JSON) are shown but not checked.
The confusion matrix counts each line once, by the predicted label covering most of it (see
`evaluation.score`), so a line cut into body and chrome can be ✗ and still count on the diagonal.
Documents with errors come first, most errors first; two checkboxes (CSS only) hide the rest.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html import escape

from .corpus import LABELS, Document
from .evaluation import Report
from .filtering import LineLabel

# Characters that cannot be written as UTF-8 (lone surrogates from broken JSON escapes).
_UNENCODABLE = re.compile("[\ud800-\udfff]")

CSS = """
body{font:14px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;color:#1d2129}
header,nav,main{padding:0 1.5em}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.3em 0 1em}th,td{border:1px solid #ccd;padding:.15em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
.scores{display:flex;flex-wrap:wrap;column-gap:3em}.index td:nth-child(2){text-align:left}
.confusion td.diag{background:#eef7ef}.confusion td.off{background:#fdeeee}.confusion td.zero{background:none;color:#999}
.filters{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccd;padding:.4em 1.5em;z-index:1}
.filters label{margin-right:1.5em}
.legend>span{display:inline-block;margin-right:1em}
.sw{display:inline-block;width:1.1em;height:1em;vertical-align:middle;margin-right:.3em;border:1px solid #aab}
details.doc{border-top:1px solid #ccd;padding:.3em 0;content-visibility:auto;contain-intrinsic-size:auto 20em}
summary{cursor:pointer}summary h2{display:inline}details.doc>summary{font-weight:600}
.count{font-weight:400;color:#555}.errors .count{color:#b71c1c}.kinds{color:#555;margin:.2em 0}
.line{position:relative;padding-left:16em;min-height:1.5em;margin:1px 0;border-left:6px solid transparent;
white-space:pre-wrap;overflow-wrap:anywhere}
.no{position:absolute;left:0;width:3.5em;text-align:right;color:#888}
.lab{position:absolute;left:4.5em;width:11em;color:#555;font-size:.85em;padding-top:.1em;white-space:nowrap;overflow:hidden}
.err .lab{color:#c62828;font-weight:600}
.line.err{background:#fff5f5}
.line.g-body{border-left-color:#2e7d32}.line.g-chrome{border-left-color:#8a94a6}
.line.g-spam{border-left-color:#c62828}.line.g-none{border-left:6px dotted #d5d8de}
.line.g-mixed{border-image:repeating-linear-gradient(#2e7d32 0 5px,#8a94a6 5px 10px,#c62828 10px 15px) 1}
.p-body{background:#dcf1df}.p-chrome{background:#e2e6ee}.p-spam{background:#f9d2cf}
.g-mixed>span.g-body,.g-mixed>span.g-chrome,.g-mixed>span.g-spam{text-decoration-line:underline;
text-decoration-thickness:3px;text-underline-offset:3px}
span.g-body{text-decoration-color:#2e7d32}span.g-chrome{text-decoration-color:#8a94a6}
span.g-spam{text-decoration-color:#c62828}
span.wrong{outline:2px solid #c62828;outline-offset:-1px}
body:has(#only-errors:checked) .clean{display:none}
body:has(#only-wrong-lines:checked) .line:not(.err){display:none}
"""

LEGEND = (
    '<p class="legend">'
    '<span><span class="sw" style="background:#2e7d32"></span>gold body</span>'
    '<span><span class="sw" style="background:#8a94a6"></span>gold chrome</span>'
    '<span><span class="sw" style="background:#c62828"></span>gold spam</span>'
    '<span><span class="sw" style="background:repeating-linear-gradient(#2e7d32 0 3px,#8a94a6 3px 6px)"></span>'
    'gold mixed (pieces underlined in their gold colour)</span>'
    '<span><span class="sw" style="border:2px dotted #d5d8de"></span>not checked</span><br>'
    '<span><span class="sw p-body"></span>predicted body</span>'
    '<span><span class="sw p-chrome"></span>predicted chrome</span>'
    '<span><span class="sw p-spam"></span>predicted spam</span>'
    '<span><span class="sw" style="outline:2px solid #c62828"></span>✗ wrong: predicted label is not the gold one</span>'
    '<span>beside each line: gold → predicted, or one label when they agree</span>'
    "</p>"
)


@dataclass(frozen=True)
class Piece:
    """Characters [start, end) of a line with one gold label (None: not checked) and one prediction."""

    start: int
    end: int
    gold: str | None
    predicted: str
    score: float

    def wrong(self, line: str) -> bool:
        return self.gold is not None and self.gold != self.predicted and bool(line[self.start : self.end].strip())


def gold_pieces(doc: Document, i: int) -> list[tuple[int, int, str | None]]:
    label, end = doc.labels[i], len(doc.lines[i])
    if label == "mixed":
        return list(doc.spans.get(i) or [(0, end, None)])
    return [(0, end, label if label in LABELS else None)]


def line_pieces(doc: Document, i: int, segments: list[LineLabel]) -> list[Piece]:
    """The line cut wherever a gold piece or a predicted segment starts; `segments` tile the line."""
    gold = gold_pieces(doc, i)
    predicted = [(s.start, s.end, s.label, s.score) for s in segments] or [(0, len(doc.lines[i]), "chrome", 0.0)]
    cuts = sorted({0, len(doc.lines[i])} | {g[0] for g in gold} | {p[0] for p in predicted})
    out, g, p = [], 0, 0
    for start, end in zip(cuts, cuts[1:] + [None]):
        end = len(doc.lines[i]) if end is None else end
        if end == start and out:
            continue
        while g + 1 < len(gold) and gold[g][1] <= start:
            g += 1
        while p + 1 < len(predicted) and predicted[p][1] <= start:
            p += 1
        out.append(Piece(start, end, gold[g][2], predicted[p][2], predicted[p][3]))
    return out


@dataclass
class DocumentView:
    doc: Document
    position: int  # in input order: the anchor of the document
    lines: list[list[Piece]]
    wrong: list[bool]

    @classmethod
    def build(cls, doc: Document, labels: list[LineLabel], position: int) -> DocumentView:
        by_line: dict[int, list[LineLabel]] = {}
        for item in labels:
            by_line.setdefault(item.line, []).append(item)
        lines = [line_pieces(doc, i, by_line.get(i + 1, [])) for i in range(len(doc.lines))]
        wrong = [any(piece.wrong(text) for piece in pieces) for text, pieces in zip(doc.lines, lines)]
        return cls(doc, position, lines, wrong)

    @property
    def errors(self) -> int:
        return sum(self.wrong)

    @property
    def checked(self) -> int:
        return sum(1 for text, label in zip(self.doc.lines, self.doc.labels) if label and text.strip())

    def kinds(self) -> Counter:
        """Wrong lines per `gold→predicted` (a line counts once per kind it shows)."""
        kinds: Counter = Counter()
        for text, pieces, wrong in zip(self.doc.lines, self.lines, self.wrong):
            if wrong:
                kinds.update({f"{p.gold}→{p.predicted}" for p in pieces if p.wrong(text)})
        return kinds


def _row(cells: list, head: bool = False) -> str:
    tag = "th" if head else "td"
    return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _per_class_html(report: Report) -> str:
    rows = [_row(["label", "precision", "recall", "F1", "gold lines"], head=True)]
    rows += [_row([label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", n]) for label, (p, r, f, n) in report.per_class().items()]
    return f'<section><h2>Lines, per class</h2><table class="per-class">{"".join(rows)}</table></section>'


def _chars_html(report: Report, baseline: Report | None) -> str:
    chars = [_row(["", "precision", "recall", "F1", "junk removed", "spam lines kept", "body lines as spam"], head=True)]
    for name, r in [("model", report)] + ([("keep every line", baseline)] if baseline else []):
        c = r.chars
        chars.append(_row([name, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", f"{c.junk_removed:.3f}",
                           r.spam_kept, r.body_as_spam]))
    return f'<section><h2>Body characters</h2><table class="chars">{"".join(chars)}</table></section>'


def _confusion_html(report: Report) -> str:
    head = "<tr><th>gold \\ predicted</th>" + "".join(f"<th>{p}</th>" for p in LABELS) + "</tr>"
    rows = []
    for g in LABELS:
        cells = []
        for p in LABELS:
            n = report.count(g, p)
            kind = "diag" if g == p else ("off" if n else "zero")
            cells.append(f'<td class="{kind}" data-gold="{g}" data-predicted="{p}">{n}</td>')
        rows.append(f"<tr><th>{g}</th>{''.join(cells)}</tr>")
    return ('<section><h2>Confusion matrix</h2><table class="confusion">'
            f'{head}{"".join(rows)}</table><p>Lines with a gold label and text, each counted once<br>'
            'by the label predicted for most of it.</p></section>')


def _patterns_html(patterns: dict[str, Report]) -> str:
    rows = [_row(["pattern", "pages", "char P", "char R", "char F1", "junk removed", "body F1", "spam kept"], head=True)]
    for name, r in patterns.items():
        c = r.chars
        rows.append(_row([name, r.documents, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}",
                          f"{c.junk_removed:.3f}", f"{r.per_class()['body'][2]:.3f}", r.spam_kept]))
    return f'<section><h2>Per pattern (pages showing it)</h2><table class="patterns">{"".join(rows)}</table></section>'


def _index_html(views: list[DocumentView]) -> str:
    rows = [_row(["document", "site", "lines checked", "wrong lines"], head=True)]
    for v in views:
        rows.append(f'<tr class="{"errors" if v.errors else "clean"}"><td><a href="#doc-{v.position}">'
                    f"{escape(v.doc.id)}</a></td><td>{escape(v.doc.site)}</td><td>{v.checked}</td><td>{v.errors}</td></tr>")
    with_errors = sum(1 for v in views if v.errors)
    return (f'<nav><details><summary><h2>Documents: {len(views)}, {with_errors} with errors</h2></summary>'
            f'<table class="index">{"".join(rows)}</table></details></nav>')


def _line_html(number: int, text: str, label: str | None, pieces: list[Piece], wrong: bool) -> str:
    # Three elements and the pieces per line: a report of hundreds of pages stays quick to open.
    gold = label if label in LABELS or label == "mixed" else "none"
    predicted = "+".join(dict.fromkeys(p.predicted for p in pieces))
    shown = gold if gold == predicted else f"{gold if gold != 'none' else '–'} → {predicted}"
    spans = []
    for p in pieces:
        g = p.gold or "none"
        spans.append(f'<span class="p-{p.predicted} g-{g}{" wrong" if p.wrong(text) else ""}" '
                     f'title="gold {g}, predicted {p.predicted} {p.score:.2f}">{escape(text[p.start : p.end])}</span>')
    return (f'<div class="line g-{gold}{" err" if wrong else ""}"><span class="no">{number}</span>'
            f'<span class="lab">{shown}{" ✗" if wrong else ""}</span>{"".join(spans)}</div>')


def _document_html(v: DocumentView) -> str:
    d = v.doc
    kinds = ", ".join(f"{kind} {n}" for kind, n in v.kinds().most_common())
    lines = "".join(_line_html(i + 1, text, label, pieces, wrong)
                    for i, (text, label, pieces, wrong) in enumerate(zip(d.lines, d.labels, v.lines, v.wrong)))
    state = "errors" if v.errors else "clean"
    return (f'<details class="doc {state}" id="doc-{v.position}" data-id="{escape(d.id)}" data-errors="{v.errors}"'
            f'{" open" if v.errors else ""}><summary><span class="doc-id">{escape(d.id)}</span> '
            f'<span class="site">({escape(d.site)})</span> <span class="count">{v.errors} wrong of {v.checked} '
            f'lines checked</span></summary>{f"<p class=kinds>{escape(kinds)}</p>" if kinds else ""}{lines}</details>')


def render(docs: list[Document], predictions: list[list[LineLabel]], report: Report,
           patterns: dict[str, Report] | None = None, baseline: Report | None = None,
           title: str = "classifier evaluate") -> str:
    """The whole report page, as text (write it as UTF-8)."""
    views = [DocumentView.build(doc, labels, k) for k, (doc, labels) in enumerate(zip(docs, predictions))]
    views.sort(key=lambda v: -v.errors)  # stable: input order among equals
    wrong = sum(v.errors for v in views)
    with_errors = sum(1 for v in views if v.errors)
    page = [
        '<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="summary">{report.documents} documents, <span id="wrong-lines">{wrong}</span> wrong lines '
        f"in {with_errors} documents.</p>",
        '<div class="scores">', _per_class_html(report), _confusion_html(report), _chars_html(report, baseline),
        _patterns_html(patterns) if patterns else "", "</div></header>",
        '<div class="filters"><label><input type="checkbox" id="only-errors"> only documents with errors</label>'
        '<label><input type="checkbox" id="only-wrong-lines"> only wrong lines</label>' + LEGEND + "</div>",
        _index_html(views),
        "<main><h2>Lines</h2>", "".join(_document_html(v) for v in views), "</main></body></html>\n",
    ]
    return _UNENCODABLE.sub("\ufffd", "".join(page))
