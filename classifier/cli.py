"""The `classifier` command: parses options, calls the library, prints. Nothing else prints.

Exit codes: 0 all inputs done; 1 some inputs failed (each reported on stderr, the rest done);
2 nothing could run (bad options, no usable model, malformed labeled data). A run stopped by
Ctrl-C or SIGTERM exits with 130 or 143, and every output file it wrote is complete.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import artifacts
from .corpus import load_documents, load_labeled
from .errors import ClassifierError, InputError, LabeledFormatError
from .model import DEFAULT_ALPHA
from .reading import Source, is_giant, iter_sources, read_parts, read_stdin, read_text
from .segment import split_lines

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Label lines of scraped Chinese document pages as body, chrome or spam; keep the body.")

# Documents labeled together: enough to vectorize, few enough to keep memory flat.
DOC_BATCH = 64
BATCH_CHARS = 4 << 20

Paths = Annotated[list[str] | None, typer.Argument(help="Files or directories (recursive); '-' or nothing reads stdin.")]
ModelOpt = Annotated[Path | None, typer.Option("--model", "-m", help="Model directory (default: the shipped model).")]


def _text_encoding(name: str | None) -> str | None:
    """An unknown --encoding stops the run before any input is read, not once per file."""
    if name is not None:
        try:
            b"a".decode(name, errors="ignore")  # decoding nothing does not look the codec up
        except LookupError:
            raise typer.BadParameter(f"unknown text encoding {name!r} (e.g. utf-8, gb18030, big5, utf-16)") from None
    return name


EncodingOpt = Annotated[str | None, typer.Option(help="Input encoding (default: detect).", callback=_text_encoding)]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (output order stays input order).")]
RepeatsOpt = Annotated[bool, typer.Option(
    help="Use lines recurring across the documents of this run as evidence of chrome (bounded memory).")]


def _counter(enabled: bool):
    from .repeats import RepeatCounter

    return RepeatCounter() if enabled else None


class Format(str, Enum):
    jsonl = "jsonl"
    tsv = "tsv"
    labeled = "labeled"


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line on stderr.")]
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz")


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


@dataclass(frozen=True)
class _PartOf:
    """A part of a giant input (see reading.read_parts); `failed`: the input stopped decoding."""

    source: Source
    continues_line: bool
    first: bool
    last: bool
    failed: bool = False

    @property
    def name(self) -> str:
        return self.source.name


def _documents(paths: list[str] | None, encoding: str | None, failures: list, parts: bool = False,
               exclude: Path | None = None) -> Iterator[tuple[Source | _PartOf, str | None]]:
    """(source, text) per readable input, not under `exclude` (an output directory); with
    `parts`, giant files come as (_PartOf, text) pieces."""
    for source in iter_sources(paths or [], exclude=exclude):
        if isinstance(source, InputError):
            failures.append(source)
            _err(f"error: {source}")
            continue
        if parts and is_giant(source.path):
            yield from _giant(source, encoding, failures)
            continue
        try:
            text = read_stdin(encoding) if source.path is None else read_text(source.path, encoding)
        except InputError as exc:
            failures.append(exc)
            _err(f"error: {exc}")
            continue
        yield source, text


def _giant(source: Source, encoding: str | None, failures: list) -> Iterator[tuple[_PartOf, str | None]]:
    first = True
    try:
        for part in read_parts(source.path, encoding):
            yield _PartOf(source, part.continues_line, first, part.last), part.text
            first = False
    except InputError as exc:
        failures.append(exc)
        _err(f"error: {exc}")
        yield _PartOf(source, False, first, True, failed=True), None


def _labeled(labeler, items: Iterator[tuple[object, str | None]], counter, jobs: int, model: Path | None):
    """(tag, lines, labels) for every (tag, text) item, in input order. Items without text
    (inputs that failed) pass through as (tag, None, None); a document the labeler failed on
    comes as (tag, None, the exception)."""
    from .parallel import label_batches

    def batches():
        for batch in _batches(items):
            docs = [split_lines(text) for _, text in batch if text is not None]
            yield (batch, docs), docs

    for (batch, docs), labels in label_batches(labeler, batches(), counter, jobs, model):
        done = iter(zip(docs, labels))
        for tag, text in batch:
            lines, doc_labels = next(done) if text is not None else (None, None)
            if isinstance(doc_labels, Exception):
                lines = None
            yield tag, lines, doc_labels


def _batches(items: Iterator[tuple[object, str | None]], size: int = DOC_BATCH, chars: int = BATCH_CHARS) -> Iterator[list]:
    """Groups of (tag, text) items: `size` documents, or fewer when their text passes `chars`."""
    batch, total = [], 0
    for item in items:
        batch.append(item)
        total += len(item[1] or "")
        if len(batch) >= size or total >= chars:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def _make_output_dir(output_dir: Path | None) -> None:
    if output_dir is None:
        return
    if output_dir.exists() and not output_dir.is_dir():
        _err(f"error: {output_dir}: exists and is not a directory (--output-dir)")
        raise typer.Exit(2)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"error: {output_dir}: cannot create the output directory: {exc.strerror or exc}")
        raise typer.Exit(2) from None


class _Output:
    """Where each input's output goes: stdout, or one file under `output_dir` per input, written
    whole or not at all. A file that cannot be written, or would replace its own input, is
    reported and the batch goes on."""

    def __init__(self, output_dir: Path | None, run: _Run, stack: ExitStack):
        self.output_dir, self.run, self.stack = output_dir, run, stack
        self.out, self.name = _stdout(), ""

    def open(self, source: Source, relative: Path | None = None, compress: bool = False) -> None:
        if self.output_dir is None:
            return
        self.close()
        self.name = source.name
        self.target = target = self.output_dir / (relative or source.relative)
        self.out = None
        try:
            if source.path is not None and target.exists() and os.path.samefile(target, source.path):
                self.run.fail(f"{source.name}: the output would replace the input file; choose another --output-dir")
                return
            self.out = self.stack.enter_context(artifacts.atomic_file(target, compress=compress))
        except OSError as exc:
            self.run.fail(f"{source.name}: cannot write {target}: {exc.strerror or exc}")

    def write(self, text: str) -> None:
        if self.out is None:
            return
        try:
            self.out.write(text)
        except OSError as exc:
            self.abort(f"cannot write {self.target}: {exc.strerror or exc}")

    def close(self) -> None:
        """The current file is complete: rename it into place."""
        if self.output_dir is None:
            self.out.flush()
            return
        try:
            self.stack.close()
        except OSError as exc:
            self.run.fail(f"{self.name}: cannot write {self.target}: {exc.strerror or exc}")
        self.out = None

    def abort(self, reason: str | None = None) -> None:
        """Drop the current file (its input failed): nothing half written stays."""
        if reason:
            self.run.fail(f"{self.name}: {reason}")
        if self.output_dir is not None:
            self.stack.__exit__(InputError, InputError(reason or "input failed"), None)
            self.out = None


@app.command("filter")
def filter_(
    paths: Paths = None,
    model: ModelOpt = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", help="Write one output file per input, same relative path and name.")] = None,
    encoding: EncodingOpt = None,
    repeats: RepeatsOpt = True,
    jobs: JobsOpt = 1,
    jsonl: Annotated[bool, typer.Option(
        "--jsonl", help="Inputs are JSONL (one object per line, .gz too): write each record with its body.")] = False,
    text_field: Annotated[str, typer.Option(help="JSONL: the field holding the page text.")] = "text",
    body_field: Annotated[str | None, typer.Option(
        help="JSONL: write the body to this field (default: replace the text field).")] = None,
    dropped_field: Annotated[str | None, typer.Option(
        help="JSONL: also write the lines dropped per label, e.g. {\"chrome\": 12, \"spam\": 1}, to this field.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Print the body text of each page (line breaks kept), or write it under --output-dir.

    With --jsonl, every input line gives one output line, in order: the record with its body,
    other fields unchanged; a line that cannot be filtered keeps its fields and gains
    "classifier_error" (a line that is not JSON is kept under "classifier_raw").
    """
    labeler = _load_model(model)
    _make_output_dir(output_dir)
    run = _Run("filter", quiet)
    with run:
        if jsonl:
            _filter_jsonl(labeler, paths, output_dir, text_field, body_field or text_field, dropped_field,
                          _counter(repeats), jobs, model, run)
        else:
            _filter_files(labeler, paths, output_dir, encoding, _counter(repeats), jobs, model, run)
    raise typer.Exit(1 if run.tally.errors else 0)


@dataclass
class _Run:
    """A command's tally, progress bar and closing summary line (stderr)."""

    command: str
    quiet: bool

    def __post_init__(self):
        from .progress import Progress, Tally

        self.tally = Tally()
        self.failures: list = []
        self.progress = Progress(self.quiet)

    def done(self, lines, labels, document: bool = True) -> dict[str, int]:
        """Count a labeled document (or a part of one: `document` only on its last part)."""
        if document:
            self.progress.update()
        return self.tally.add(lines, labels, document)

    def fail(self, message: str) -> None:
        self.tally.errors += 1
        _err(f"error: {message}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.progress.close()
        self.tally.errors += len(self.failures)
        if not self.quiet and exc[0] is None:
            _err(self.tally.summary(self.command))


def _filter_files(labeler, paths, output_dir, encoding, counter, jobs, model, run: _Run) -> None:
    """Bodies to stdout or one file each under output_dir; a giant input's parts are written as
    they come, joined as the lines they were cut from."""
    from .filtering import body_text

    wrote, ended_on_cut = False, False
    with ExitStack() as stack:
        output = _Output(output_dir, run, stack)
        items = _documents(paths, encoding, run.failures, parts=True, exclude=output_dir)
        for tag, lines, labels in _labeled(labeler, items, counter, jobs, model):
            part = tag if isinstance(tag, _PartOf) else None
            source = part.source if part else tag
            if part is None or part.first:
                wrote = False
                output.open(source)
            if lines is None:
                if isinstance(labels, Exception):
                    run.fail(f"{source.name}: cannot label: {labels!r}")
                output.abort()
                continue
            run.done(lines, labels, document=part is None or part.last)
            body = body_text(lines, labels)
            if body:
                # A line cut between two parts is one line again when both halves kept body text.
                rejoin = part is not None and part.continues_line and ended_on_cut and _body_lines(lines, labels)[0] == 1
                output.write((("" if rejoin else "\n") if wrote else "") + body)
                wrote = True
                ended_on_cut = _body_lines(lines, labels)[1] == len(lines)
            if part is None or part.last:
                if wrote:
                    output.write("\n")
                output.close()


def _body_lines(lines: list[str], labels) -> tuple[int, int]:
    """The first and last line (1-based) holding body text."""
    numbers = [item.line for item in labels if item.label == "body" and lines[item.line - 1][item.start : item.end].strip()]
    return (min(numbers), max(numbers)) if numbers else (0, 0)


@dataclass(frozen=True)
class _Opened:
    """Marks, in the stream of records, where the records of a new input begin."""

    source: Source


def _jsonl_items(paths, text_field: str, run: _Run, exclude: Path | None = None) -> Iterator[tuple[object, str | None]]:
    from .jsonl import read_records

    for source in iter_sources(paths or [], JSONL_SUFFIXES, exclude=exclude):
        if isinstance(source, InputError):
            run.fail(str(source))
            continue
        yield _Opened(source), None
        try:
            for record in read_records(source.path, text_field):
                if record.error:
                    run.fail(f"{record.where()}: {record.error}")
                    yield record, None
                else:
                    yield record, record.data[text_field]
        except OSError as exc:
            run.fail(f"{source.name}: cannot read: {exc.strerror or exc}")


def _filter_jsonl(labeler, paths, output_dir, text_field, body_field, dropped_field, counter, jobs, model,
                  run: _Run) -> None:
    from .filtering import body_text
    from .jsonl import dumps, error_output

    with ExitStack() as stack:
        output = _Output(output_dir, run, stack)
        items = _jsonl_items(paths, text_field, run, exclude=output_dir)
        for tag, lines, labels in _labeled(labeler, items, counter, jobs, model):
            if isinstance(tag, _Opened):
                relative = tag.source.relative if tag.source.path else Path("stdin.jsonl")
                output.open(tag.source, relative, compress=relative.name.endswith(".gz"))
                continue
            if lines is None:
                if isinstance(labels, Exception):
                    tag.error = f"cannot label: {labels!r}"
                    run.fail(f"{tag.where()}: {tag.error}")
                output.write(dumps(error_output(tag)) + "\n")
                continue
            dropped = run.done(lines, labels)
            record = dict(tag.data)
            record[body_field] = body_text(lines, labels)
            if dropped_field:
                record[dropped_field] = dropped
            output.write(dumps(record) + "\n")
        output.close()


@app.command()
def label(
    paths: Paths = None,
    model: ModelOpt = None,
    format: Annotated[Format, typer.Option(
        "--format", "-f", help="jsonl: one object per line; tsv: path, line, start, end, label, score; "
                               "labeled: pre-labeled files in the labeled/ format, to correct and train on.")] = Format.jsonl,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", help="With --format labeled: write <name>.tsv per page here (e.g. labeled/<site>/).")] = None,
    explain: Annotated[bool, typer.Option(
        help="Show each line's label, probability and the features that weighed most (one process).")] = False,
    view: Annotated[bool, typer.Option(help="Print each page with its labels as colours (B body, C chrome, S spam).")] = False,
    encoding: EncodingOpt = None,
    repeats: RepeatsOpt = True,
    jobs: JobsOpt = 1,
    quiet: QuietOpt = False,
) -> None:
    """Print one record per line (or segment): path, 1-based line, start/end offsets, label, score."""
    if explain and view:
        _err("error: --explain and --view are two views of the labels: pick one")
        raise typer.Exit(2)
    if output_dir is not None and format is not Format.labeled:
        _err("error: --output-dir goes with --format labeled (other formats print to stdout)")
        raise typer.Exit(2)
    labeler = _load_model(model)
    _make_output_dir(output_dir)
    counter = _counter(repeats)
    run = _Run("label", quiet)
    with run:
        records = format in (Format.jsonl, Format.tsv) and not view
        items = _documents(paths, encoding, run.failures, parts=records and not explain, exclude=output_dir)
        if explain:
            _explain(labeler, items, counter, run)
        else:
            _print_labels(_labeled(labeler, items, counter, jobs, model), format, output_dir, view, run)
    raise typer.Exit(1 if run.tally.errors else 0)


def _print_labels(labeled, format: Format, output_dir: Path | None, view: bool, run: _Run) -> None:
    from .filtering import LineLabel
    from .render import coloured_lines, labeled_rows, legend

    out = _stdout()
    style = _style(view)
    if view:
        typer.echo(legend(style), color=True)
    ends = (0, 0)  # a giant input's lines before the last line of the previous part, and that line's length
    for source, lines, labels in labeled:
        part = source if isinstance(source, _PartOf) else None
        if lines is not None:
            run.done(lines, labels, document=part is None or part.last)
        if part is not None:
            # Where this part starts in its input: on a new line, or inside the previous part's last one.
            line_offset, char_offset = (0, 0) if part.first else ends if part.continues_line else (ends[0] + 1, 0)
            if lines is not None:
                labels = [LineLabel(item.line + line_offset, item.label, item.score,
                                    item.start + (char_offset if item.line == 1 else 0),
                                    item.end + (char_offset if item.line == 1 else 0)) for item in labels]
                ends = (line_offset + len(lines) - 1, len(lines[-1]) + (char_offset if len(lines) == 1 else 0))
            source = part.source
        if lines is None:
            if isinstance(labels, Exception):
                run.fail(f"{source.name}: cannot label: {labels!r}")
            continue
        if view:
            typer.echo(style(f"== {source.name}", None, bold=True), color=True)
            for row in coloured_lines(lines, labels, style):
                typer.echo(row, color=True)
        elif format is Format.labeled:
            rows, problems = labeled_rows(lines, labels, source.name)
            for problem in problems:
                _err(f"warning: {problem}")
            text = "\n".join(rows) + "\n"
            if output_dir is None:
                out.write(text)
            else:
                target = output_dir / source.relative.with_suffix(".tsv")
                try:
                    artifacts.write_atomic(target, lambda f, text=text: f.write(text))
                except OSError as exc:
                    run.fail(f"{source.name}: cannot write {target}: {exc.strerror or exc}")
        else:
            for item in labels:
                if format is Format.jsonl:
                    record = {"path": source.name, "line": item.line, "start": item.start, "end": item.end,
                              "label": item.label, "score": item.score}
                    out.write(_json_line(record))
                else:
                    out.write(f"{source.name}\t{item.line}\t{item.start}\t{item.end}\t{item.label}\t{item.score}\n")
    out.flush()


def _style(enabled: bool):
    """Colours for --view; plain text when NO_COLOR is set (https://no-color.org)."""
    import os

    if not enabled or os.environ.get("NO_COLOR"):
        return lambda text, fg, **kw: text
    return lambda text, fg, **kw: typer.style(text, fg=fg, **kw)


def _explain(labeler, items, counter, run: _Run) -> None:
    from .explain import explain_batch, format_explanation
    from .filtering import batches

    for batch in _batches(items):
        docs = [split_lines(text) for _, text in batch]
        results = [r for group in batches(docs) for r in explain_batch(labeler, group, counter)]
        for (source, _), lines, (labels, explained) in zip(batch, docs, results):
            run.done(lines, labels)
            for e in explained:
                typer.echo(format_explanation(e, lines[e.line - 1][e.start : e.end], source.name))


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

    if not labeled_dir.exists():
        _err(f"error: {labeled_dir}: no such file or directory")
        raise typer.Exit(2)
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
    report: Annotated[Path | None, typer.Option(
        help="Also write an HTML page: the scores, and every document's lines coloured by gold and "
             "predicted label, errors marked.")] = None,
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
    reference = score(docs, [keep_everything(d) for d in docs]) if baseline else None
    if reference is not None:
        typer.echo(format_report(reference, "keep every line:") + "\n")
    predictions = labeler.label_documents([d.lines for d in docs], _counter(repeats))
    scores = score(docs, predictions)
    typer.echo(format_report(scores, "model:"))
    patterns = score_by_pattern(docs, predictions) if by_pattern else None
    if patterns is not None:
        typer.echo("\n" + format_pattern_report(patterns))
    if report is not None:
        from .report import render

        title = "classifier evaluate " + " ".join(str(p) for p in paths)
        page = render(docs, predictions, scores, patterns, reference, title)
        try:
            artifacts.write_atomic(report, lambda f: f.write(page))
        except OSError as exc:
            _err(f"error: {report}: cannot write the report ({exc.strerror or exc})")
            raise typer.Exit(2) from None
        typer.echo(f"\nreport written to {report}")


@app.command()
def info(model: ModelOpt = None) -> None:
    """Describe a model in words: labels, training data (size, hash), cross-validated scores, versions."""
    from .modelcard import describe

    directory = model or artifacts.default_model_dir()
    try:
        meta = artifacts.read_meta(directory)
    except ClassifierError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    typer.echo(describe(meta, str(directory)))
    try:
        artifacts.load(directory)
    except ClassifierError as exc:
        typer.echo(f"usable       no: {exc}")
        raise typer.Exit(2) from None
    typer.echo("usable       yes")


def _stop_on_sigterm() -> None:
    """SIGTERM ends a run the way Ctrl-C does: by an exception, so the output file being written
    is removed (see artifacts.write_atomic) and the finished ones stay, each complete."""
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def main() -> None:
    _stop_on_sigterm()
    try:
        app()
    except BrokenPipeError:
        # The reader went away (`classifier filter ... | head`): stop quietly, as other filters do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
