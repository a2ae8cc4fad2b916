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


# --- giant inputs ------------------------------------------------------------------------------

# Files above this size are read, labeled and written in parts, so memory stays flat.
GIANT_BYTES = 32 << 20
PART_CHARS = 1 << 20
READ_BYTES = 4 << 20
SAMPLE_BYTES = 1 << 20
_CUTS = "。！？!?；;…"


@dataclass(frozen=True)
class Part:
    """A piece of a giant input: `text`, whether it begins inside the previous part's last line
    (`continues_line`), and whether it is the `last`."""

    text: str
    continues_line: bool
    last: bool


def is_giant(path: Path | None) -> bool:
    try:
        return path is not None and path.stat().st_size > GIANT_BYTES
    except OSError:
        return False


def read_parts(path: Path, encoding: str | None = None, part_chars: int | None = None) -> Iterator[Part]:
    """The text of a giant file in parts of about `part_chars` characters, decoded incrementally.

    A part ends at a line break where one falls in its second half (the break belongs to
    neither part); inside a longer line it ends after a sentence end or a space, or at
    `part_chars` when there is none. Raises InputError, naming the file and byte offset, when
    the bytes stop decoding.
    """
    name, part_chars = str(path), part_chars or PART_CHARS
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
        codec = encoding or _sample_encoding(head, name)
        try:
            decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        except LookupError:
            raise InputError(f"{name}: unknown encoding {codec!r}") from None
        buffer, continues, offset, data = "", False, 0, head
        while True:
            final = not data
            try:
                buffer += decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: cannot decode as {codec} near byte {offset + exc.start}") from None
            offset += len(data)
            if not final and buffer.endswith("\r"):  # a \r\n may straddle the read
                buffer, held = buffer[:-1], "\r"
            else:
                held = ""
            buffer = normalize_newlines(buffer)
            if offset == len(head) and buffer.startswith("\ufeff"):
                buffer = buffer[1:]
            while len(buffer) > 2 * part_chars or (final and len(buffer) > part_chars):
                cut, skip, next_continues = _cut(buffer, part_chars)
                yield Part(buffer[:cut], continues, False)
                buffer, continues = buffer[cut + skip :], next_continues
            buffer += held
            if final:
                yield Part(buffer, continues, True)
                return
            data = f.read(READ_BYTES)


def _cut(buffer: str, part_chars: int) -> tuple[int, int, bool]:
    """Where the part ends, how many characters the cut consumes, and whether the next part
    continues the line."""
    half = part_chars // 2
    newline = buffer.rfind("\n", half, part_chars)
    if newline >= 0:
        return newline, 1, False
    end = max(buffer.rfind(c, half, part_chars) for c in _CUTS)
    if end < 0:
        end = max(buffer.rfind(" ", half, part_chars), buffer.rfind("\u3000", half, part_chars))
    return (end + 1 if end >= 0 else part_chars), 0, True


def _sample_encoding(head: bytes, name: str) -> str:
    for bom, codec in BOMS:
        if head.startswith(bom):
            return "utf-8" if codec == "utf-8-sig" else codec
    if _looks_binary(head):
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=["gb18030", "big5", "utf_16", "utf_8"]).best() or from_bytes(head).best()
    if best is None:
        raise InputError(f"{name}: cannot detect the text encoding (try --encoding)")
    return best.encoding
