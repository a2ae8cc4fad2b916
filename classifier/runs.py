"""Runs of `filter` and `label` over many inputs: the command's plumbing (with cli.py, the only
code that prints).

Inputs come as a stream of (tag, text) items: files, giant files in parts (reading.read_parts),
or JSONL records. They are labeled in batches, in one process or several (parallel.py), and
come back in input order, an item that failed passing through in its place. Outputs go to
stdout or to one atomic file per input; a `Run` counts what was kept and dropped, draws the
progress bar and prints the closing summary.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import artifacts
from .errors import InputError
from .reading import Source, is_giant, iter_sources, read_parts, read_stdin, read_text
from .segment import split_lines

if TYPE_CHECKING:
    from .filtering import Kept

# Documents labeled together: enough to vectorize, few enough to keep memory flat.
DOC_BATCH = 64
BATCH_CHARS = 4 << 20
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz")


class Format(str, Enum):
    jsonl = "jsonl"
    tsv = "tsv"
    labeled = "labeled"


def err(message: str) -> None:
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


@dataclass(frozen=True)
class PartOf:
    """A part of a giant input (see reading.read_parts); `failed`: the input stopped decoding."""

    source: Source
    continues_line: bool
    first: bool
    last: bool
    failed: bool = False

    @property
    def name(self) -> str:
        return self.source.name


def documents(paths: list[str] | None, encoding: str | None, failures: list, parts: bool = False,
               exclude: Path | None = None) -> Iterator[tuple[Source | PartOf, str | None]]:
    """(source, text) per readable input, not under `exclude` (an output directory); with
    `parts`, giant files come as (PartOf, text) pieces."""
    for source in iter_sources(paths or [], exclude=exclude):
        if isinstance(source, InputError):
            failures.append(source)
            err(f"error: {source}")
            continue
        if parts and is_giant(source.path):
            yield from giant(source, encoding, failures)
            continue
        try:
            text = read_stdin(encoding) if source.path is None else read_text(source.path, encoding)
        except InputError as exc:
            failures.append(exc)
            err(f"error: {exc}")
            continue
        yield source, text


def giant(source: Source, encoding: str | None, failures: list) -> Iterator[tuple[PartOf, str | None]]:
    first = True
    try:
        for part in read_parts(source.path, encoding):
            yield PartOf(source, part.continues_line, first, part.last), part.text
            first = False
    except InputError as exc:
        failures.append(exc)
        err(f"error: {exc}")
        yield PartOf(source, False, first, True, failed=True), None


def label_stream(labeler, items: Iterator[tuple[object, str | None]], counter, jobs: int, model: Path | None,
                 finish=None) -> Iterator[tuple[object, object]]:
    """(tag, result) for every (tag, text) item, in input order: the text's (lines, labels), or
    with `finish`, `finish(lines, labels)` (made where it was labeled: in a worker with --jobs).
    Items without text (inputs that failed) pass through as (tag, None); a document the labeler
    failed on comes as (tag, the exception)."""
    from .parallel import label_batches

    def batches():
        for batch in batches_of(items):
            yield batch, [text for _, text in batch if text is not None]

    for batch, results in label_batches(labeler, batches(), counter, jobs, model, finish):
        done = iter(results)
        for tag, text in batch:
            result = next(done) if text is not None else None
            if finish is None and result is not None and not isinstance(result, BaseException):
                result = split_lines(text), result  # the lines again: cheaper than sending them back
            yield tag, result


def batches_of(items: Iterator[tuple[object, str | None]], size: int = DOC_BATCH, chars: int = BATCH_CHARS) -> Iterator[list]:
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


class Output:
    """Where each input's output goes: stdout, or one file under `output_dir` per input, written
    whole or not at all. A file that cannot be written, or would replace its own input, is
    reported and the batch goes on."""

    def __init__(self, output_dir: Path | None, run: Run, stack: ExitStack):
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
            if self.output_dir is None:  # stdout: its reader went away or its device is full; the run ends
                raise
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


@dataclass
class Run:
    """A command's tally, progress bar and closing summary line (stderr)."""

    command: str
    quiet: bool

    def __post_init__(self):
        from .progress import Progress, Tally

        self.tally = Tally()
        self.failures: list = []
        self.progress = Progress(self.quiet)

    def done(self, kept: Kept, document: bool = True) -> None:
        """Count a filtered document (or a part of one: `document` only on its last part)."""
        if document:
            self.progress.update()
        self.tally.add(kept.kept, kept.dropped, document)

    def done_labels(self, lines: list[str], labels: list, document: bool = True) -> None:
        """Count a labeled document (or a part of one)."""
        from .filtering import dropped_lines, kept_lines

        if document:
            self.progress.update()
        self.tally.add(len(kept_lines(lines, labels)), dropped_lines(lines, labels), document)

    def fail(self, message: str) -> None:
        self.tally.errors += 1
        err(f"error: {message}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.progress.close()
        self.tally.errors += len(self.failures)
        if not self.quiet and exc[0] is None:
            err(self.tally.summary(self.command))


def filter_files(labeler, paths, output_dir, encoding, counter, jobs, model, run: Run) -> None:
    """Bodies to stdout or one file each under output_dir; a giant input's parts are written as
    they come, as the whole input read at once would give them (see `Joiner`)."""
    from .filtering import keep

    with ExitStack() as stack:
        output = Output(output_dir, run, stack)
        items = documents(paths, encoding, run.failures, parts=True, exclude=output_dir)
        for tag, kept in label_stream(labeler, items, counter, jobs, model, finish=keep):
            part = tag if isinstance(tag, PartOf) else None
            source = part.source if part else tag
            if part is None or part.first:
                output.open(source)
                joiner = Joiner(output)
            if kept is None or isinstance(kept, BaseException):
                if kept is not None:
                    run.fail(f"{source.name}: cannot label: {kept!r}")
                output.abort()
                # On stdout, what was written stays: what follows starts a line of its own.
                joiner.cut()
                if part is None or part.last:
                    joiner.end()
                continue
            run.done(kept, document=part is None or part.last)
            if part is None:
                body = kept.body
                if body:
                    output.write(body + "\n")
            else:
                joiner.add(kept, part.continues_line)
                if part.last:
                    joiner.end()
            if part is None or part.last:
                output.close()


class Joiner:
    """Writes an input's body part by part (see reading.read_parts) as the whole input labeled at
    once would give it: a line cut between two parts is one line again, and blank body lines
    stand only between body lines, also where they end one part or begin the next."""

    def __init__(self, output: Output):
        self.output = output
        self.wrote = False
        self.held: list[str] = []  # blank body lines after the last line written
        self.open: str | None = None  # the body of the last part's last line, which the next part may continue

    def add(self, kept: Kept, continues_line: bool) -> None:
        lines = kept.text.split("\n") if kept.start else []
        if self.open is not None and continues_line and kept.lines == 1 and not lines:
            return  # the part is the middle of the open line, and holds no body
        if self.open is not None:
            if continues_line and kept.start == 1:
                lines[0] = self.open + lines[0]
            else:
                self._line(self.open)
            self.open = None
        if lines and kept.end == kept.lines:
            self.open = lines.pop()
        for line in lines:
            self._line(line)

    def cut(self) -> None:
        """The line the last part ended in is complete (the part after it failed)."""
        if self.open is not None:
            self._line(self.open)
            self.open = None

    def end(self) -> None:
        """The input is complete: blank lines after its last body line are dropped."""
        self.cut()
        if self.wrote:
            self.output.write("\n")

    def _line(self, text: str) -> None:
        if not text.strip():
            if self.wrote:
                self.held.append(text)
            return
        self.output.write("\n".join(["", *self.held, text]) if self.wrote else text)
        self.held, self.wrote = [], True


@dataclass(frozen=True)
class Opened:
    """Marks, in the stream of records, where the records of a new input begin."""

    source: Source


def jsonl_items(paths, text_field: str, run: Run, exclude: Path | None = None) -> Iterator[tuple[object, str | None]]:
    from .jsonl import read_records

    for source in iter_sources(paths or [], JSONL_SUFFIXES, exclude=exclude):
        if isinstance(source, InputError):
            run.fail(str(source))
            continue
        yield Opened(source), None
        try:
            for record in read_records(source.path, text_field):
                if record.error:
                    run.fail(f"{record.where()}: {record.error}")
                    yield record, None
                else:
                    yield record, record.data[text_field]
        except OSError as exc:
            run.fail(f"{source.name}: cannot read: {exc.strerror or exc}")


def filter_jsonl(labeler, paths, output_dir, text_field, body_field, dropped_field, counter, jobs, model,
                  run: Run) -> None:
    from .filtering import keep

    def add(record: dict, kept) -> None:
        run.done(kept)
        record[body_field] = kept.body
        if dropped_field:
            record[dropped_field] = kept.dropped

    _jsonl_run(labeler, paths, output_dir, text_field, counter, jobs, model, run, add, keep)


def label_jsonl(labeler, paths, text_field, labels_field, counter, jobs, model, run: Run) -> None:
    """Each JSONL record with its labels under `labels_field`, to stdout, in input order."""
    def add(record: dict, labeled) -> None:
        lines, labels = labeled
        run.done_labels(lines, labels)
        record[labels_field] = [{"line": item.line, "start": item.start, "end": item.end, "label": item.label,
                                 "score": item.score} for item in labels]

    _jsonl_run(labeler, paths, None, text_field, counter, jobs, model, run, add)


def _jsonl_run(labeler, paths, output_dir, text_field, counter, jobs, model, run: Run, add, finish=None) -> None:
    """Label JSONL records and write each, in input order, with the fields `add(record, result)`
    puts in and counts (result: see `label_stream`); a record that cannot be labeled is written in
    its place with its error."""
    from .jsonl import dumps, error_output

    with ExitStack() as stack:
        output = Output(output_dir, run, stack)
        items = jsonl_items(paths, text_field, run, exclude=output_dir)
        for tag, result in label_stream(labeler, items, counter, jobs, model, finish):
            if isinstance(tag, Opened):
                relative = tag.source.relative if tag.source.path else Path("stdin.jsonl")
                output.open(tag.source, relative, compress=relative.name.endswith(".gz"))
                continue
            if result is None or isinstance(result, BaseException):
                if result is not None:
                    tag.error = f"cannot label: {result!r}"
                    run.fail(f"{tag.where()}: {tag.error}")
                output.write(dumps(error_output(tag)) + "\n")
                continue
            record = dict(tag.data)
            add(record, result)
            output.write(dumps(record) + "\n")
        output.close()


def print_labels(labeled, format: Format, output_dir: Path | None, view: bool, run: Run) -> None:
    from .filtering import LineLabel
    from .render import coloured_lines, labeled_rows, legend

    out = _stdout()
    style = _style(view)
    if view:
        typer.echo(legend(style), color=True)
    ends = (0, 0)  # a giant input's lines before the last line of the previous part, and that line's length
    for source, result in labeled:
        failed = result is None or isinstance(result, BaseException)
        lines, labels = (None, result) if failed else result
        part = source if isinstance(source, PartOf) else None
        if lines is not None:
            run.done_labels(lines, labels, document=part is None or part.last)
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
                err(f"warning: {problem}")
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


def explain_units(labeler, items, counter, run: Run) -> None:
    from .explain import explain_batch, format_explanation
    from .filtering import batches

    for batch in batches_of(items):
        docs = [split_lines(text) for _, text in batch]
        results = [r for group in batches(docs) for r in explain_batch(labeler, group, counter)]
        for (source, _), lines, (labels, explained) in zip(batch, docs, results):
            run.done_labels(lines, labels)
            for e in explained:
                typer.echo(format_explanation(e, lines[e.line - 1][e.start : e.end], source.name))
