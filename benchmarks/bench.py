"""Throughput, start-up and memory of `classifier filter`, against baselines on the same text, in one run.

Builds a corpus from the project's own labeled pages (shuffled, many sites). Each copy of a page
keeps its site chrome (which recurs on real sites too) and gets its body paragraphs' sentences
reordered, and a body line that would still repeat an earlier copy's gets two neighbouring
characters swapped: body lines are not exact repeats, so caches do not flatter the figures.
The share of lines that recur is printed. Then it times, side by side:

- `classifier filter DIR` as one process, whole-process time (MB/s, documents/s);
- the same with `--jobs 2`;
- start-up plus filtering one 5 KB page;
- peak memory of the one-process run, of a run on one long line (`--long-mb`) and of one
  JSONL stream (`--jsonl-mb`);
- baselines: a plain-Python line rule (length plus Chinese sentence punctuation), on the pages
  in memory and as a whole process over the same files as the filter's, trafilatura
  and jusText with each line wrapped as an HTML paragraph (jusText reads jieba-split words with
  a Chinese stoplist). The slow baselines run on a sample of the corpus (`--sample-mb`).

Ratios are what to compare across runs: the machines are shared and noisy. Each throughput and
start-up figure and each baseline is the best of `--repeat` runs (2 by default): a run slowed by
another job on the machine does not count. Each run of a slow baseline is a new process that
has seen no page of its sample (after an untimed run on other pages), as each `classifier` run
is.

    python benchmarks/bench.py [--mb 50] [--sample-mb 2] [--long-mb 200] [--jsonl-mb 1000] [--repeat 2]
"""
from __future__ import annotations

import argparse
import html
import importlib.util
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = re.compile(r"(?<=[。！？])")
RULE = re.compile(r"[。！？]")
# Frequent function words: jusText's stopword density needs a list in the page's language.
CHINESE_STOPWORDS = frozenset(
    "的 了 是 在 和 有 我 我们 你 他 她 它 这 那 就 也 都 而 及 与 或 对 要 把 被 让 从 向 为 以 于 之 其 中 上 下 个 "
    "等 着 过 还 又 并 但 如果 因为 所以 一个 没有 自己 这个 这些 那些 可以 进行 工作 同志 会 能 将 已经 不 很 更 最".split()
)


def build_corpus(target_mb: float, seed: int = 0, by_site: bool = False) -> list[str]:
    """Copies of the labeled pages (body sentences reordered) up to `target_mb`: all sites
    shuffled together, or `by_site`: each site's copies one after another, as a scraping job of
    one site at a time writes them."""
    sys.path.insert(0, str(ROOT))
    from classifier.corpus import load_labeled

    docs = load_labeled(ROOT / "labeled")
    rng = random.Random(seed)
    out: list[str] = []
    size = 0

    used: set[str] = set()  # body lines of the copies so far

    def copy(doc) -> str:
        lines = []
        for line, label in zip(doc.lines, doc.labels):
            if label == "body" and line.strip():
                if out:  # the first copy stays as written
                    sentences = [s for s in SENTENCE.split(line) if s]
                    rng.shuffle(sentences)
                    line = "".join(sentences)
                    # A line of one sentence would recur as it is: swap two neighbouring characters
                    # until no earlier copy holds it. Body text of real pages rarely recurs.
                    for _ in range(20):
                        if line not in used or len(line) < 2:
                            break
                        k = rng.randrange(len(line) - 1)
                        line = line[:k] + line[k + 1] + line[k] + line[k + 2 :]
                used.add(line)
            lines.append(line)
        return "\n".join(lines)

    if by_site:  # every site, each as often: the corpus ends a little above the target
        total = sum(len(d.text.encode("utf-8")) for d in docs)
        rounds = max(1, math.ceil(target_mb * 1e6 / total))
        sites: dict[str, list] = {}
        for doc in docs:
            sites.setdefault(doc.site, []).append(doc)
        for doc in (doc for site in sorted(sites) for _ in range(rounds) for doc in sites[site]):
            out.append(copy(doc))
        return out
    while size < target_mb * 1e6:
        rng.shuffle(docs)
        for doc in docs:
            text = copy(doc)
            out.append(text)
            size += len(text.encode("utf-8"))
            if size >= target_mb * 1e6:
                break
    return out


def recurring(pages: list[str]) -> float:
    """Share of the non-blank lines whose text an earlier page holds: what caches can save."""
    seen: set[str] = set()
    recur = total = 0
    for page in pages:
        lines = {line.strip() for line in page.split("\n")} - {""}
        recur += len(lines & seen)
        total += len(lines)
        seen |= lines
    return recur / max(total, 1)


# The commands run as an installed package runs: with its modules' bytecode cached (pip compiles
# it when it installs a package; here the warm-up run writes it), whatever this shell says.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(args: list[str], times: int = 1) -> tuple[float, int]:
    """Best wall time and highest peak resident memory (MB) of `times` runs of one command."""
    results = [_run_once(args) for _ in range(times)]
    return min(seconds for seconds, _ in results), max(memory for _, memory in results)


def _run_once(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return elapsed, usage.ru_maxrss // 1024


def line_rule(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if len(line.strip()) >= 20 and RULE.search(line))


def _line_rule_files(directory: str) -> None:
    """(In a process of its own.) The line rule as a filter over a directory: each file read, in
    sorted order, its kept lines written to stdout."""
    out = sys.stdout
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            out.write(line_rule(f.read()) + "\n")


def as_html(text: str, words=None) -> str:
    paragraphs = (" ".join(words(line)) if words else line for line in text.split("\n") if line.strip())
    return "<html><body>" + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) + "</body></html>"


def timed(fn, times: int = 1) -> float:
    """Best wall time of `times` calls."""
    best = math.inf
    for _ in range(times):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _first_pages(pages: list[str], mb: float) -> list[str]:
    out, size = [], 0
    for p in pages:
        if size >= mb * 1e6:
            break
        out.append(p)
        size += len(p.encode("utf-8"))
    return out


def _run_trafilatura(sample: list[str]) -> float:
    import trafilatura

    docs = [as_html(p) for p in sample]  # the HTML is trafilatura's input: made before the clock starts
    start = time.perf_counter()
    for d in docs:
        trafilatura.extract(d)
    return time.perf_counter() - start


def _run_justext(sample: list[str]) -> float:
    import jieba
    import justext

    jieba.setLogLevel(60)
    jieba.initialize()
    start = time.perf_counter()  # the words are jusText's input here: cut on the clock
    for p in sample:
        justext.justext(as_html(p, words=jieba.lcut), CHINESE_STOPWORDS)
    return time.perf_counter() - start


SLOW_BASELINES = {"trafilatura": ("trafilatura", _run_trafilatura), "jusText (jieba words)": ("justext", _run_justext)}


def _time_baseline(name: str, warm_path: str, sample_path: str) -> None:
    """(In a process of its own.) Print the seconds one slow baseline takes on the sample, after an
    untimed run on other pages: a process that has seen no page of the sample, as each
    `classifier` run is (trafilatura caches what it has seen)."""
    run = SLOW_BASELINES[name][1]
    run(json.loads(Path(warm_path).read_text(encoding="utf-8")))
    print(run(json.loads(Path(sample_path).read_text(encoding="utf-8"))))


def baselines(pages: list[str], corpus_dir: Path, sample_mb: float, times: int = 1) -> dict[str, float]:
    """MB/s of each baseline, best of `times`: the line rule on all pages, in memory and as a
    process over their files in `corpus_dir`; the slow ones on the first pages up to sample_mb,
    each run in a new process (see `_time_baseline`)."""
    speeds = {}
    mb = sum(len(p.encode("utf-8")) for p in pages) / 1e6
    speeds["line rule (plain Python)"] = mb / timed(lambda: [line_rule(p) for p in pages], times)
    speeds["line rule, whole process"] = mb / run([sys.executable, __file__, "--line-rule-files", str(corpus_dir)], times)[0]
    sample = _first_pages(pages, sample_mb)
    warm = _first_pages(pages[len(sample):], min(sample_mb, 0.5)) or sample
    smb = sum(len(p.encode("utf-8")) for p in sample) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "warm.json", Path(tmp) / "sample.json"]
        for path, part in zip(paths, (warm, sample)):
            path.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
        for name, (module, _) in SLOW_BASELINES.items():
            if importlib.util.find_spec(module) is None:
                print(f"{module} not installed: pip install -e '.[bench]'")
                continue
            seconds = [float(subprocess.run([sys.executable, __file__, "--time-baseline", name, *map(str, paths)],
                                            check=True, capture_output=True, text=True).stdout.split()[-1])
                       for _ in range(times)]
            speeds[name] = smb / min(seconds)
    return speeds


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size in MB")
    parser.add_argument("--sample-mb", type=float, default=2.0, help="sample for the slow baselines, MB")
    parser.add_argument("--long-mb", type=float, default=200.0, help="size of the one-line input, MB (0: skip)")
    parser.add_argument("--jsonl-mb", type=float, default=1000.0, help="size of the JSONL stream, MB (0: skip)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the parallel run")
    parser.add_argument("--repeat", type=_positive, default=2,
                        help="runs of each throughput and start-up measurement and baseline; the best counts "
                             "(the long line and the JSONL stream run once)")
    parser.add_argument("--order", choices=("shuffled", "site"), default="shuffled",
                        help="pages of all sites shuffled together, or each site's pages one after another")
    parser.add_argument("--time-baseline", nargs=3, metavar=("NAME", "WARM", "SAMPLE"), help=argparse.SUPPRESS)
    parser.add_argument("--line-rule-files", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_baseline:
        _time_baseline(*args.time_baseline)
        return
    if args.line_rule_files:
        _line_rule_files(args.line_rule_files)
        return
    cli = [sys.executable, "-m", "classifier", "filter"]
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "pages"
        corpus_dir.mkdir()
        pages = build_corpus(args.mb, by_site=args.order == "site")
        for k, page in enumerate(pages):  # one file per page, as scraping jobs write them
            (corpus_dir / f"{k:06d}.txt").write_text(page, encoding="utf-8")
        mb = sum(len(p.encode("utf-8")) for p in pages) / 1e6
        small = Path(tmp) / "small.txt"
        small.write_text(next(p for p in pages if 4000 <= len(p.encode("utf-8")) <= 6000), encoding="utf-8")
        run(cli + [str(small)])  # warm-up: the package's bytecode written and cached
        start_s, _ = run(cli + [str(small)], args.repeat)
        one_s, one_mem = run(cli + [str(corpus_dir)], args.repeat)
        par_s, _ = run(cli + [str(corpus_dir), "--jobs", str(args.jobs)], args.repeat)
        long_line = None
        if args.long_mb:
            piece = "".join(p.replace("\n", " ") for p in pages[:200])
            long_path = Path(tmp) / "long.txt"
            with open(long_path, "w", encoding="utf-8") as f:
                written = 0
                while written < args.long_mb * 1e6:
                    f.write(piece)
                    written += len(piece.encode("utf-8"))
            long_line = run(cli + [str(long_path)]) + (written / 1e6,)
        stream = None
        if args.jsonl_mb:  # the pages again and again as one JSONL stream: memory must stay flat
            jsonl_path = Path(tmp) / "pages.jsonl"
            with open(jsonl_path, "w", encoding="utf-8") as f:
                written, k = 0, 0
                while written < args.jsonl_mb * 1e6:
                    line = json.dumps({"id": k, "text": pages[k % len(pages)]}, ensure_ascii=False) + "\n"
                    f.write(line)
                    written, k = written + len(line.encode("utf-8")), k + 1
            stream = run(cli + ["--jsonl", str(jsonl_path), "--quiet"]) + (written / 1e6,)
        speeds = baselines(pages, corpus_dir, args.sample_mb, args.repeat)
    ours = mb / one_s
    order = "shuffled" if args.order == "shuffled" else "in site order"
    print(f"best of {args.repeat} runs each; "
          f"corpus: {mb:.1f} MB, {len(pages)} pages (labeled/ {order}, body lines changed per copy), "
          f"{recurring(pages):.0%} of lines recur from an earlier page")
    print(f"classifier filter, 1 process    {ours:8.2f} MB/s  {len(pages) / one_s:8.0f} docs/s  peak {one_mem} MB")
    print(f"classifier filter, --jobs {args.jobs}     {mb / par_s:8.2f} MB/s  = {one_s / par_s:.2f} x one process")
    print(f"start-up + one 5 KB page        {start_s:8.2f} s")
    if long_line:
        seconds, memory, size = long_line
        print(f"one line of {size:.0f} MB             {size / seconds:8.2f} MB/s  peak {memory} MB")
    if stream:
        seconds, memory, size = stream
        print(f"JSONL stream of {size:.0f} MB        {size / seconds:8.2f} MB/s  peak {memory} MB")
    for name, speed in speeds.items():
        print(f"{name:<31} {speed:8.2f} MB/s  filter = {ours / speed:.2f} x")


if __name__ == "__main__":
    main()
