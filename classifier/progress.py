"""What a run did: a progress bar on stderr while it runs (only when stderr is a terminal) and a
one-line summary at the end."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .corpus import LABELS


@dataclass
class Tally:
    """Documents, lines with kept text, lines dropped per label, and inputs that failed."""

    documents: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {name: 0 for name in LABELS if name != "body"})
    errors: int = 0

    def add(self, kept: int, dropped: dict[str, int], document: bool = True) -> None:
        """Count one filtered or labeled document (or a part of one): its lines holding body text
        and its lines dropped per label."""
        self.documents += document
        self.kept += kept
        for name, count in dropped.items():
            self.dropped[name] = self.dropped.get(name, 0) + count

    def summary(self, command: str) -> str:
        dropped = ", ".join(f"{count:,} {name}" for name, count in self.dropped.items())
        errors = f"{self.errors:,} error" + ("" if self.errors == 1 else "s")
        return (f"{command}: {self.documents:,} document{'' if self.documents == 1 else 's'}, "
                f"{self.kept:,} lines kept, dropped {dropped}; {errors}")


class Progress:
    """A documents-per-second bar on stderr when stderr is a terminal and not `quiet`; silent otherwise."""

    def __init__(self, quiet: bool = False, unit: str = "doc"):
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
