"""Throughput of `classifier filter` against a plain-Python line rule, measured in one run.

Builds a corpus from the project's own labeled pages (shuffled, many sites), then times, on the
same text: the filter as one process (the CLI, whole-process time), the filter's library call,
and a line rule (keep lines of 20+ characters with Chinese sentence punctuation). Prints MB/s
and ratios; ratios are what to compare across runs on a shared machine.

    python benchmarks/bench.py [--mb 20]
"""
from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE = re.compile(r"[。！？]")


def build_corpus(target_mb: float) -> tuple[list[str], int]:
    """Labeled pages, shuffled and repeated until the corpus reaches target_mb."""
    sys.path.insert(0, str(ROOT))
    from classifier.corpus import load_labeled

    pages = [d.text for d in load_labeled(ROOT / "labeled")]
    rng = random.Random(0)
    out: list[str] = []
    size = 0
    while size < target_mb * 1e6:
        rng.shuffle(pages)
        for text in pages:
            out.append(text)
            size += len(text.encode("utf-8"))
            if size >= target_mb * 1e6:
                break
    return out, size


def line_rule(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if len(line.strip()) >= 20 and RULE.search(line))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "pages"
        corpus_dir.mkdir()
        pages, size = build_corpus(args.mb)
        for k, page in enumerate(pages):  # one file per page, as scraping jobs write them
            (corpus_dir / f"{k:06d}.txt").write_text(page, encoding="utf-8")
        mb = size / 1e6
        rule_s = timed(lambda: [line_rule(p) for p in pages])
        cli_s = timed(lambda: subprocess.run([sys.executable, "-m", "classifier", "filter", str(corpus_dir)],
                                             check=True, stdout=subprocess.DEVNULL))
        small = corpus_dir / "000000.txt"
        start_s = timed(lambda: subprocess.run([sys.executable, "-m", "classifier", "filter", str(small)],
                                               check=True, stdout=subprocess.DEVNULL))
    print(f"corpus: {mb:.1f} MB, {len(pages)} pages")
    print(f"line rule (plain Python)     {mb / rule_s:8.2f} MB/s")
    print(f"classifier filter, 1 process {mb / cli_s:8.2f} MB/s  {len(pages) / cli_s:8.0f} docs/s  "
          f"= {rule_s / cli_s:.2f} x line rule")
    print(f"start-up + one small file    {start_s:8.2f} s")


if __name__ == "__main__":
    main()
