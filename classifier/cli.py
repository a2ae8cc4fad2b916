"""The `classifier` command: parses options, calls the library, prints. Nothing else prints.

Exit codes: 0 all inputs done; 1 some inputs failed (each reported on stderr, the rest done);
2 nothing could run (bad options, no usable model, malformed labeled data).
"""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import artifacts
from .corpus import load_documents, load_labeled
from .errors import ClassifierError, InputError, LabeledFormatError
from .model import DEFAULT_ALPHA
from .reading import Source, iter_sources, read_stdin, read_text
from .segment import split_lines

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Label lines of scraped Chinese document pages as body, chrome or spam; keep the body.")

# Documents labeled together: enough to vectorize, few enough to keep memory flat.
DOC_BATCH = 64

Paths = Annotated[list[str] | None, typer.Argument(help="Files or directories (recursive); '-' or nothing reads stdin.")]
ModelOpt = Annotated[Path | None, typer.Option("--model", "-m", help="Model directory (default: the shipped model).")]
EncodingOpt = Annotated[str | None, typer.Option(help="Input encoding (default: detect).")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (output order stays input order).")]
RepeatsOpt = Annotated[bool, typer.Option(
    help="Use lines recurring across the documents of this run as evidence of chrome (bounded memory).")]


def _counter(enabled: bool):
    from .repeats import RepeatCounter

    return RepeatCounter() if enabled else None


class Format(str, Enum):
    jsonl = "jsonl"
    tsv = "tsv"


def _err(message: str) -> None:
    typer.echo(message, err=True)


# Lone surrogates can reach the output: JSON input may carry any ("\ud800"), and Python decodes
# file names that are not UTF-8 into \udc80-\udcff. JSON records escape them ("\ud800"), so JSONL
# stays valid UTF-8 and json.loads gives the same string back. Plain text (filter output, TSV)
# writes them with "surrogatepass": writing never fails, and reading the output back with
# errors="surrogatepass" gives the same text.
_SURROGATE = re.compile("[\ud800-\udfff]")
TEXT_ERRORS = "surrogatepass"


def _json_line(record: dict) -> str:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(record, ensure_ascii=False)) + "\n"


def _stdout():
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors=TEXT_ERRORS)
    return out


def _load_model(model: Path | None):
    try:
        return artifacts.load(model)
    except ClassifierError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def _documents(paths: list[str] | None, encoding: str | None, failures: list) -> Iterator[tuple[Source, str]]:
    for source in iter_sources(paths or []):
        if isinstance(source, InputError):
            failures.append(source)
            _err(f"error: {source}")
            continue
        try:
            text = read_stdin(encoding) if source.path is None else read_text(source.path, encoding)
        except InputError as exc:
            failures.append(exc)
            _err(f"error: {exc}")
            continue
        yield source, text


def _labeled(labeler, paths, encoding, failures, counter, jobs: int, model: Path | None):
    """(source, lines, labels) for every readable input document, in input order."""
    from .parallel import label_batches

    def batches():
        for batch in _batches(_documents(paths, encoding, failures)):
            docs = [split_lines(text) for _, text in batch]
            yield (batch, docs), docs

    for (batch, docs), labels in label_batches(labeler, batches(), counter, jobs, model):
        for (source, _), lines, doc_labels in zip(batch, docs, labels):
            yield source, lines, doc_labels


def _batches(items: Iterator, size: int = DOC_BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@app.command("filter")
def filter_(
    paths: Paths = None,
    model: ModelOpt = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", help="Write one body file per input, same relative path and name.")] = None,
    encoding: EncodingOpt = None,
    repeats: RepeatsOpt = True,
    jobs: JobsOpt = 1,
) -> None:
    """Print the body text of each page (line breaks kept), or write it under --output-dir."""
    from .filtering import body_text

    labeler = _load_model(model)
    counter = _counter(repeats)
    failures: list = []
    out = _stdout()
    for source, lines, labels in _labeled(labeler, paths, encoding, failures, counter, jobs, model):
        body = body_text(lines, labels)
        if output_dir is not None:
            data = (body + "\n" if body else "").encode("utf-8", TEXT_ERRORS)
            artifacts.write_atomic(output_dir / source.relative, lambda f, data=data: f.write(data), binary=True)
        elif body:
            out.write(body + "\n")
    out.flush()
    raise typer.Exit(1 if failures else 0)


@app.command()
def label(
    paths: Paths = None,
    model: ModelOpt = None,
    format: Annotated[Format, typer.Option(
        "--format", "-f", help="jsonl: one object per line; tsv: path, line, start, end, label, score.")] = Format.jsonl,
    encoding: EncodingOpt = None,
    repeats: RepeatsOpt = True,
    jobs: JobsOpt = 1,
) -> None:
    """Print one record per line (or segment): path, 1-based line, start/end offsets, label, score."""
    labeler = _load_model(model)
    counter = _counter(repeats)
    failures: list = []
    out = _stdout()
    for source, _, labels in _labeled(labeler, paths, encoding, failures, counter, jobs, model):
        for item in labels:
            if format is Format.jsonl:
                record = {"path": source.name, "line": item.line, "start": item.start, "end": item.end,
                          "label": item.label, "score": item.score}
                out.write(_json_line(record))
            else:
                out.write(f"{source.name}\t{item.line}\t{item.start}\t{item.end}\t{item.label}\t{item.score}\n")
    out.flush()
    raise typer.Exit(1 if failures else 0)


@app.command()
def train(
    labeled_dir: Annotated[Path, typer.Argument(help="Folder of labeled files (<site>/<doc>.tsv).")] = Path("labeled"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")] = Path("models/default"),
    folds: Annotated[int, typer.Option(help="Cross-validation folds, grouped by site (0: skip).")] = 5,
    alpha: Annotated[float, typer.Option(help="Regularization strength of the line model.")] = DEFAULT_ALPHA,
) -> None:
    """Train a model on labeled pages, print cross-validated scores (folds grouped by site), save it."""
    from .evaluation import format_report
    from .features import FeatureSettings
    from .training import TrainingSet, cross_validate, fit, training_meta

    try:
        docs = load_labeled(labeled_dir)
    except LabeledFormatError as exc:
        _err(f"error: malformed labeled data:\n{exc}")
        raise typer.Exit(2) from None
    if not docs:
        _err(f"error: {labeled_dir}: no labeled files (*.tsv)")
        raise typer.Exit(2)
    settings = FeatureSettings()
    data = TrainingSet.build(docs, settings)
    typer.echo(f"{len(docs)} documents from {len({d.site for d in docs})} sites "
               f"(and {len(data.docs) - len(docs)} truncated views of them), {data.X.shape[0]} lines with text")
    report = None
    if folds >= 2:
        try:
            report = cross_validate(data, settings, folds, alpha=alpha)
        except ValueError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(2) from None
        typer.echo(format_report(report, f"cross-validation, {folds} folds grouped by site:"))
    labeler = fit(data, range(len(data.docs)), settings, alpha=alpha)
    artifacts.save(labeler, output, training_meta(docs, str(labeled_dir), report, folds))
    typer.echo(f"model written to {output}")


@app.command()
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="Labeled folders/files (.tsv) or gold JSON files/folders.")],
    model: ModelOpt = None,
    baseline: Annotated[bool, typer.Option(help="Also print the keep-every-line reference.")] = False,
    repeats: RepeatsOpt = True,
    by_pattern: Annotated[bool, typer.Option(
        help="Also print scores per page pattern (one-line pages, spam headers, ...).")] = True,
) -> None:
    """Per-class precision/recall/F1, confusion matrix, character-level body scores, and scores per pattern."""
    from .evaluation import format_pattern_report, format_report, keep_everything, score, score_by_pattern

    try:
        docs = load_documents(paths)
    except LabeledFormatError as exc:
        _err(f"error: malformed evaluation data:\n{exc}")
        raise typer.Exit(2) from None
    if not docs:
        _err("error: no documents to evaluate")
        raise typer.Exit(2)
    labeler = _load_model(model)
    if baseline:
        typer.echo(format_report(score(docs, [keep_everything(d) for d in docs]), "keep every line:") + "\n")
    predictions = labeler.label_documents([d.lines for d in docs], _counter(repeats))
    typer.echo(format_report(score(docs, predictions), "model:"))
    if by_pattern:
        typer.echo("\n" + format_pattern_report(score_by_pattern(docs, predictions)))


def main() -> None:
    app()
