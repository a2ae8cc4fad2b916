"""Reading input: bytes to text (encoding detection, universal newlines) and input discovery."""
from __future__ import annotations

import codecs
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Share of control bytes (other than whitespace and escape) above which input is taken for binary.
BINARY_CONTROL_SHARE = 0.05
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))


def normalize_newlines(text: str) -> str:
    """Universal newlines: `\\r\\n` and lone `\\r` become `\\n`, so lines are `text.split("\\n")`."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes, name: str = "<input>", encoding: str | None = None) -> str:
    """Decode bytes to text with universal newlines; detect the encoding unless one is given."""
    if encoding:
        try:
            return normalize_newlines(data.decode(encoding))
        except UnicodeDecodeError as exc:
            raise _undecodable(data, name, encoding, exc) from None
        except LookupError as exc:
            raise InputError(f"{name}: cannot decode as {encoding}: {exc}") from None
    for bom, codec in BOMS:
        if data.startswith(bom):
            return normalize_newlines(data.decode(codec, errors="replace"))
    # Before UTF-8: NUL-padded formats (tar, some databases) are valid UTF-8 but not text.
    if _looks_binary(data):
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        return normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return normalize_newlines(_detect(data, name))


def _undecodable(data: bytes, name: str, encoding: str, exc: UnicodeDecodeError) -> InputError:
    """The error for bytes that are not valid `encoding`, naming the line of the first bad byte."""
    line = normalize_newlines(data[: exc.start].decode(encoding, errors="replace")).count("\n") + 1
    return InputError(f"{name}:{line}: cannot decode as {encoding} ({exc.reason} at byte {exc.start}); "
                      "try another --encoding, or none to detect it")


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * max(len(sample), 1)


def _detect(data: bytes, name: str) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16", "utf_8"]).best()
    if best is None:
        best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{name}: cannot detect the text encoding (try --encoding)")
    return str(best)


def read_text(path: str | Path, encoding: str | None = None) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return decode(data, str(path), encoding)


def read_stdin(encoding: str | None = None) -> str:
    return decode(sys.stdin.buffer.read(), "<stdin>", encoding)


@dataclass(frozen=True)
class Source:
    """One input document: a file path (None for stdin) and its path relative to its root."""

    path: Path | None
    relative: Path

    @property
    def name(self) -> str:
        """The path as output records show it: bytes of a file name that are not UTF-8 as `\\xNN`."""
        if self.path is None:
            return "<stdin>"
        return os.fsencode(self.path).decode("utf-8", errors="backslashreplace")


def iter_sources(paths: list[str], suffixes: tuple[str, ...] | None = None,
                 exclude: Path | None = None) -> Iterator[Source | InputError]:
    """Files as given, directories walked recursively in sorted order, `-` or nothing for stdin.

    Problems (a missing path, a directory that cannot be listed, a FIFO or socket met in a walk)
    are yielded as errors in place, so a batch goes on past them. A directory `exclude` (the
    output directory) is not walked into.
    """
    if not paths:
        paths = ["-"]
    for raw in paths:
        if raw == "-":
            yield Source(None, Path("stdin"))
            continue
        root = Path(raw)
        if root.is_dir():
            yield from _walk(root, suffixes, exclude)
        elif root.exists():
            yield Source(root, Path(root.name))
        else:
            yield InputError(f"{raw}: no such file or directory")


def _walk(root: Path, suffixes: tuple[str, ...] | None, exclude: Path | None = None) -> Iterator[Source | InputError]:
    seen: set[str] = set()
    skip = os.path.realpath(exclude) if exclude is not None else None
    problems: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=problems.append, followlinks=True):
        yield from _unlisted(problems)
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop: walk each real directory once
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if skip is None or os.path.realpath(os.path.join(dirpath, d)) != skip)
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            if suffixes and not filename.endswith(suffixes):
                continue
            path = Path(dirpath) / filename
            kind = _special_kind(path)
            yield InputError(f"{path}: not a regular file ({kind}), skipped") if kind else Source(path, path.relative_to(root))
    yield from _unlisted(problems)


def _unlisted(problems: list[OSError]) -> Iterator[InputError]:
    """Directories the walk could not list (no permission, path too long): reported, not skipped in silence."""
    while problems:
        exc = problems.pop(0)
        yield InputError(f"{exc.filename}: cannot list directory: {exc.strerror or exc}")


def _special_kind(path: Path) -> str | None:
    """What a walked entry is when it is not a file to read: reading a FIFO would wait forever."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # a broken link: reading it reports why
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((name for test, name in kinds if test(mode)), "of another kind")
