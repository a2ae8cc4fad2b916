"""JSONL streams: one JSON object per line, from files or stdin, plain or gzip-compressed.

Reading yields every line of the stream in order, as a record or as the problem with it, so
the caller can write exactly one output line per input line: a good record with its body, a
bad one with the reason. Records are decoded one line at a time: memory does not grow with
the size of the stream.
"""
from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
# Field added to a record that could not be filtered (its other fields are kept as they were).
ERROR_FIELD = "classifier_error"
# A line that is not JSON at all is written back under this field, so nothing is lost.
RAW_FIELD = "classifier_raw"


@dataclass
class Record:
    """Line `number` (1-based) of `source`: the parsed object, or `error` and the raw line."""

    source: str
    number: int
    data: dict | None
    error: str | None = None
    raw: str | None = None

    def where(self) -> str:
        return f"{self.source}:{self.number}"


def open_binary(path: str | Path | None) -> IO[bytes]:
    """A binary stream of the file (stdin for None), decompressed when it starts as gzip."""
    raw = sys.stdin.buffer if path is None else open(path, "rb")  # noqa: SIM115 - closed by the caller
    stream = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    if stream.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream


def read_records(path: str | Path | None, text_field: str) -> Iterator[Record]:
    """Every non-blank line of a JSONL stream as a `Record`; a truncated or damaged gzip stream
    ends with one error record after the last line that could be read."""
    name = "<stdin>" if path is None else str(path)
    stream = open_binary(path)
    number = 0
    try:
        for number, line in enumerate(stream, 1):  # noqa: B007 - the last number is reported on failure
            if not line.strip():
                continue
            yield parse_record(line, name, number, text_field)
    except (EOFError, OSError, zlib.error) as exc:
        yield Record(name, number + 1, None, f"stream ends early or is damaged after line {number}: {exc}")
    finally:
        if path is not None:
            stream.close()


def parse_record(line: bytes, source: str, number: int, text_field: str) -> Record:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raw = line.decode("utf-8", errors="replace").rstrip("\r\n")
        return Record(source, number, None, f"not UTF-8 ({exc.reason} at byte {exc.start})", raw)
    try:
        data = json.loads(text)
    except ValueError as exc:
        return Record(source, number, None, f"malformed JSON ({exc})", text.rstrip("\r\n"))
    if not isinstance(data, dict):
        return Record(source, number, None, f"expected a JSON object, got {type(data).__name__}", text.rstrip("\r\n"))
    value = data.get(text_field)
    if not isinstance(value, str):
        problem = "missing" if text_field not in data else f"a {type(value).__name__}, not a string"
        return Record(source, number, data, f"field {text_field!r} is {problem}")
    return Record(source, number, data)


def error_output(record: Record) -> dict:
    """The output object of a record that could not be filtered: its fields and the reason."""
    out = dict(record.data) if record.data is not None else {RAW_FIELD: record.raw} if record.raw is not None else {}
    out[ERROR_FIELD] = f"{record.where()}: {record.error}"
    return out


def dumps(data: dict) -> str:
    """One JSON line. Text that cannot be written as UTF-8 (lone surrogates, which JSON input
    may hold as `\\ud800` escapes) is written escaped, as it came in."""
    line = json.dumps(data, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data, ensure_ascii=True)
    return line
