"""The `classifier` command: parses options, calls the library, prints. Nothing else prints but
`runs.py`, the command's plumbing for runs over many inputs.

Exit codes: 0 all inputs done; 1 some inputs failed (each reported on stderr, the rest done);
2 nothing could run (bad options, no usable model, malformed labeled data). A run stopped by
Ctrl-C or SIGTERM exits with 130 or 143, and every output file it wrote is complete.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import artifacts
from .corpus import load_documents, load_labeled
from .errors import ClassifierError, LabeledFormatError
from .model import DEFAULT_ALPHA
from .runs import Format, Run, documents, err, explain_units, filter_files, filter_jsonl, label_jsonl, label_stream, print_labels

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Label lines of scraped Chinese document pages as body, chrome or spam; keep the body.")


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


def _jobs(value: int) -> int:
    """--jobs 0: one worker process per CPU this process may use (its affinity and a container's
    CPU quota counted)."""
    if value != 0:
        return value
    from joblib import cpu_count

    return max(cpu_count(), 1)


JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=0, callback=_jobs,
                                      help="Worker processes (output order stays input order); 0: one per available CPU.")]
RepeatsOpt = Annotated[bool, typer.Option(
    help="Use lines recurring across the documents of this run as evidence of chrome (bounded memory).")]


def _counter(enabled: bool):
    from .repeats import RepeatCounter

    return RepeatCounter() if enabled else None


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line on stderr.")]


def _load_model(model: Path | None):
    try:
        return artifacts.load(model)
    except ClassifierError as exc:
        err(f"error: {exc}")
        raise typer.Exit(2) from None


def _make_output_dir(output_dir: Path | None) -> None:
    if output_dir is None:
        return
    if output_dir.exists() and not output_dir.is_dir():
        err(f"error: {output_dir}: exists and is not a directory (--output-dir)")
        raise typer.Exit(2)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err(f"error: {output_dir}: cannot create the output directory: {exc.strerror or exc}")
        raise typer.Exit(2) from None


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

    With --jsonl, every non-blank input line gives one output line, in order: the record with its body,
    other fields unchanged; a line that cannot be filtered keeps its fields and gains
    "classifier_error" (a line that is not JSON is kept under "classifier_raw").
    """
    labeler = _load_model(model)
    _make_output_dir(output_dir)
    run = Run("filter", quiet)
    with run:
        if jsonl:
            filter_jsonl(labeler, paths, output_dir, text_field, body_field or text_field, dropped_field,
                          _counter(repeats), jobs, model, run)
        else:
            filter_files(labeler, paths, output_dir, encoding, _counter(repeats), jobs, model, run)
    raise typer.Exit(1 if run.tally.errors else 0)


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
    jsonl: Annotated[bool, typer.Option(
        "--jsonl", help="Inputs are JSONL (one object per line, .gz too): write each record with its labels.")] = False,
    text_field: Annotated[str, typer.Option(help="JSONL: the field holding the page text.")] = "text",
    labels_field: Annotated[str, typer.Option(
        help="JSONL: the field that receives the labels, a list of {line, start, end, label, score}.")] = "labels",
    quiet: QuietOpt = False,
) -> None:
    """Print one record per line (or segment): path, 1-based line, start/end offsets, label, score.

    With --jsonl, every non-blank input line gives one output line, in order: the record with its labels
    added under --labels-field, other fields unchanged (errors as with `filter --jsonl`).
    """
    if explain and view:
        err("error: --explain and --view are two views of the labels: pick one")
        raise typer.Exit(2)
    if jsonl and (explain or view or output_dir is not None or format is not Format.jsonl):
        err("error: --jsonl writes JSONL records to stdout: it goes without --explain, --view, --format and --output-dir")
        raise typer.Exit(2)
    if output_dir is not None and format is not Format.labeled:
        err("error: --output-dir goes with --format labeled (other formats print to stdout)")
        raise typer.Exit(2)
    labeler = _load_model(model)
    _make_output_dir(output_dir)
    counter = _counter(repeats)
    run = Run("label", quiet)
    with run:
        if jsonl:
            label_jsonl(labeler, paths, text_field, labels_field, counter, jobs, model, run)
        else:
            records = format in (Format.jsonl, Format.tsv) and not view
            items = documents(paths, encoding, run.failures, parts=records and not explain, exclude=output_dir)
            if explain:
                explain_units(labeler, items, counter, run)
            else:
                print_labels(label_stream(labeler, items, counter, jobs, model), format, output_dir, view, run)
    raise typer.Exit(1 if run.tally.errors else 0)


@app.command()
def train(
    labeled_dir: Annotated[Path, typer.Argument(help="Folder of labeled files (<site>/<doc>.tsv).")] = Path("labeled"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")] = Path("models/default"),
    folds: Annotated[int, typer.Option(help="Cross-validation folds, grouped by site (0: skip).")] = 5,
    alpha: Annotated[float, typer.Option(help="Regularization strength of the line model.")] = DEFAULT_ALPHA,
) -> None:
    """Train a model on labeled pages, print cross-validated scores (folds grouped by site), save it."""
    from .evaluation import format_pattern_report, format_report, score, score_by_pattern
    from .features import FeatureSettings
    from .training import TrainingSet, by_site, fit, format_site_report, held_out, training_meta

    if not labeled_dir.exists():
        err(f"error: {labeled_dir}: no such file or directory")
        raise typer.Exit(2)
    try:
        docs = load_labeled(labeled_dir)
    except LabeledFormatError as exc:
        err(f"error: malformed labeled data:\n{exc}")
        raise typer.Exit(2) from None
    if not docs:
        err(f"error: {labeled_dir}: no labeled files (*.tsv)")
        raise typer.Exit(2)
    settings = FeatureSettings()
    data = TrainingSet.build(docs, settings)
    typer.echo(f"{len(docs)} documents from {len({d.site for d in docs})} sites "
               f"(and {len(data.docs) - len(docs)} truncated views of them), {data.X.shape[0]} lines with text")
    report = patterns = sites = None
    if folds >= 2:
        try:
            pages, predictions = held_out(data, settings, folds, alpha=alpha)
        except ValueError as exc:
            err(f"error: {exc}")
            raise typer.Exit(2) from None
        report, patterns, sites = score(pages, predictions), score_by_pattern(pages, predictions), by_site(pages, predictions)
        typer.echo(format_report(report, f"cross-validation, {folds} folds grouped by site:"))
        typer.echo("\n" + format_pattern_report(patterns))
        typer.echo("\n" + format_site_report(sites))
    labeler = fit(data, range(len(data.docs)), settings, alpha=alpha)
    artifacts.save(labeler, output, training_meta(docs, str(labeled_dir), report, folds, patterns, sites))
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
        err(f"error: malformed evaluation data:\n{exc}")
        raise typer.Exit(2) from None
    if not docs:
        err("error: no documents to evaluate")
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
            err(f"error: {report}: cannot write the report ({exc.strerror or exc})")
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
        err(f"error: {exc}")
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
    # Labeling makes many small objects and no reference cycles (refcounting frees them): look
    # for cycles less often, and never again among the objects that start-up made. The command
    # owns its process; the library leaves the collector alone.
    gc.set_threshold(50_000, 20, 20)
    gc.freeze()
    try:
        app()
    except ClassifierError as exc:  # raised mid-run, after outputs were closed: e.g. --jobs workers that cannot start
        err(f"error: {exc}")
        sys.exit(2)
    except BrokenPipeError:
        # The reader went away (`classifier filter ... | head`): stop quietly, as other filters do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:  # stdout cannot be written (a full device)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        err(f"error: cannot write the output: {exc.strerror or exc}")
        sys.exit(2)
