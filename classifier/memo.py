"""What a unit's text alone decides, kept across batches for the texts that recur.

A site's navigation, upload lines, download prompts and footer stand on every page it serves, so
a scraping job meets the same unit texts page after page. Their text-only results (shape and
flags, the script and marker columns, and the line model's score from the hashed n-grams and
words) are computed once and then read back: only what depends on the page (position, context,
neighbours, repeats) is computed for every unit.

The hashed block is kept as its product with the model's coefficients, computed by the
`features.hashed_scores` that `FeatureRows.dot` uses, so the scores are the same to the last bit
with or without the memo. With repeat counts (a run over many documents), only texts that another document holds too
are kept, so the sentences of bodies, which do not recur, take no room. Texts longer than
`MEMO_CHARS` (paragraphs) are not kept either, and the memo starts afresh when it holds
`MEMO_UNITS` texts, so its memory stays bounded.
"""
from __future__ import annotations

import threading

import numpy as np

from .features import FeatureSettings, _unit_text, hashed_entries, hashed_scores, shallow

MEMO_CHARS = 200
MEMO_UNITS = 1 << 17


class UnitMemo:
    """Text-only rows of unit texts for one model: `coef` holds its coefficients, hashed block first.

    A pickled memo comes back empty (the rows are a cache, and its lock cannot be pickled).
    """

    def __init__(self, settings: FeatureSettings, coef: np.ndarray, capacity: int = MEMO_UNITS,
                 max_chars: int = MEMO_CHARS):
        self.settings = settings
        # The kept scores hold for these weights only: they are made read-only, so that changing
        # them in place raises instead of leaving the scores stale (assign new arrays instead).
        coef.setflags(write=False)
        self.coef = coef
        self.capacity = capacity
        self.max_chars = max_chars
        self.index: dict[str, int] = {}
        self.table: np.ndarray | None = None  # one row per kept text: shallow, unit text, scores
        self.widths: tuple[int, int] | None = None
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"settings": self.settings, "coef": self.coef, "capacity": self.capacity, "max_chars": self.max_chars}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def rows(self, texts: list[str], recur: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each of `texts` (distinct): its shallow row, its unit-text row and its hashed block's
        scores, one column per row of `coef`. `recur`: which texts are worth keeping (None: all
        short enough). Threads may share the memo: rows are read and kept under its lock, and
        computed outside it."""
        with self._lock:
            get = self.index.get
            ids = np.fromiter((get(t, -1) for t in texts), dtype=np.int64, count=len(texts))
            found = ids >= 0
            known = self.table[ids[found]] if found.any() else None
            self.hits += int(found.sum())
            self.misses += len(texts) - int(found.sum())
        if found.all():
            out = known
        else:
            missing = np.flatnonzero(~found)
            new = [texts[k] for k in missing.tolist()]
            computed = self._compute(new)
            out = np.empty((len(texts), computed.shape[1]))
            if known is not None:
                out[found] = known
            out[missing] = computed
            if recur is not None:
                wanted = recur[missing]
                new, computed = [t for t, w in zip(new, wanted.tolist()) if w], computed[wanted]
            with self._lock:
                self._keep(new, computed)
        shallow_width, text_width = self.widths
        return out[:, :shallow_width], out[:, shallow_width : shallow_width + text_width], \
            out[:, shallow_width + text_width :]

    def _compute(self, texts: list[str]) -> np.ndarray:
        base = shallow(texts)
        text = _unit_text([t.strip() for t in texts])
        scores = hashed_scores(*hashed_entries(texts, self.settings), self.coef, len(texts))
        self.widths = base.shape[1], text.shape[1]
        return np.hstack([base, text, scores.T])

    def _keep(self, texts: list[str], computed: np.ndarray) -> None:
        # A text another thread kept meanwhile keeps its row.
        short = [k for k, t in enumerate(texts) if len(t) <= self.max_chars and t not in self.index]
        if not short:
            return
        if self.table is None:
            self.table = np.empty((self.capacity, computed.shape[1]))
        if len(self.index) + len(short) > self.capacity:  # start afresh: the texts still recurring come back
            self.index.clear()
            short = short[: self.capacity]
        first = len(self.index)
        self.table[first : first + len(short)] = computed[short]
        for offset, k in enumerate(short):
            self.index[texts[k]] = first + offset
