"""Benchmark sentiment scoring on the reference dataset: cryptopulse's scorer vs a plain vaderSentiment loop.

    python bench/sentiment.py [--scale 1] [--baseline-sample 200000] [--workers N] [--enrich [--from DIR]] [--json]

Both sides score the same posts (every distinct tweet of the reference raw zone, by id) with
the same lexicon (VADER + the crypto words) and the same text cleaning. cryptopulse: retweet prefix
stripped, identical texts scored once, `FastVader` in parallel processes (`score_texts`). Baseline:
`SentimentIntensityAnalyzer.polarity_scores` on every post, one process. At scale 1 the baseline runs
on a seeded random sample of posts (`--baseline-sample`, 0 = all) and its rate is posts per second on
that sample; `max_abs_diff` compares both sides on every sampled post. `--json` prints {"posts",
"posts_per_s", "baseline_posts_per_s", "ratio", "max_abs_diff", ...}.

`--enrich` also times the whole `cryptopulse enrich --rescore` (score and flag every post, write the enriched files,
rebuild the marts under their gates, publish) as a child process on a fresh copy of the enriched reference
dataset (built once under data/bench/, or `--from DIR`; see bench/analysis.py): wall, CPU, peak RSS, its steps, and
`enrich_max_abs_diff`, the largest difference between the scores it landed and the baseline's on the sampled posts.
The child starts before this process reads or scores anything (with `--from`, or once that dataset is built): a child's
peak RSS counts its parent's at the start (the memory map it is spawned from), so it would otherwise report this
process's scoring, not its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from analysis import ensure_enriched, timed_command  # noqa: E402
from common import ensure_raw  # noqa: E402
from cryptopulse.analysis.scoring import reference_scores, score_texts  # noqa: E402


def post_texts(lake: Path) -> tuple[list[str], list[str]]:
    """The id and text of every distinct post (repeated pages hold the same posts) in the raw zone, by id."""
    pattern = str(lake / "raw" / "synthetic" / "x" / "posts" / "date=*" / "*.jsonl.gz")
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"""
            WITH posts AS (
                SELECT unnest(data) AS post
                FROM read_json('{pattern}', format = 'newline_delimited', columns = {{data: 'STRUCT(id VARCHAR, text VARCHAR)[]'}})
            )
            SELECT post.id, any_value(post.text) FROM posts
            WHERE post.id IS NOT NULL AND post.text IS NOT NULL AND post.text <> ''
            GROUP BY post.id ORDER BY post.id
            """
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows], [r[1] for r in rows]


def enrich_figures(run: dict[str, object], ids: list[str], sample: list[int], baseline: list[tuple[float, ...]]) -> dict[str, object]:
    """The figures of a timed `cryptopulse enrich --rescore` (every post scored and flagged again, marts rebuilt,
    published), and its largest difference from the baseline's scores on the sampled posts (read back from the
    enriched files it wrote)."""
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE sample (post_id VARCHAR, compound DOUBLE, pos DOUBLE, neu DOUBLE, neg DOUBLE)")
        con.executemany("INSERT INTO sample VALUES (?, ?, ?, ?, ?)", [(ids[i], *b) for i, b in zip(sample, baseline)])
        landed = f"read_parquet('{run['work']}/lake/enriched/post_sentiment/date=*/part-0.parquet')"
        found, diff = con.execute(
            f"SELECT count(*), max(greatest(abs(s.compound - b.compound), abs(s.pos - b.pos), abs(s.neu - b.neu), "
            f"abs(s.neg - b.neg))) FROM sample AS b JOIN {landed} AS s USING (post_id)"
        ).fetchall()[0]
    finally:
        con.close()
    return {
        "enrich_s": round(run["wall_s"], 2),
        "enrich_cpu_s": round(run["cpu_s"], 2),
        "enrich_peak_rss_mb": round(run["peak_rss_mb"]),
        "enrich_load_1min": round(run["load_1min"], 1),
        "enrich_steps_s": {k: round(v, 2) for k, v in json.loads(run["stdout"])["seconds"].items()},
        "enrich_posts_checked": found,
        "enrich_max_abs_diff": diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline-sample", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--enrich", action="store_true", help="also time `cryptopulse enrich --rescore` on the whole dataset")
    parser.add_argument("--from", dest="source", type=Path, default=None, help="with --enrich: a folder with lake/ and warehouse.duckdb")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    source = (args.source or ensure_enriched(args.scale, args.seed)) if args.enrich else None
    enriched = timed_command(source, ["enrich", "--rescore", "--json"]) if source else None  # first: see the docstring
    try:
        result = measure(args, enriched)
    finally:
        if enriched:
            shutil.rmtree(enriched["work"])
    if args.json:
        print(json.dumps(result))
        return
    print(f"posts: {result['posts']:,} ({result['distinct_texts']:,} distinct after the retweet prefix)")
    print(f"cryptopulse score_texts: {result['seconds']:.1f} s → {result['posts_per_s']:,} posts/s")
    print(f"plain vaderSentiment loop on {result['baseline_posts']:,} posts: {result['baseline_seconds']:.1f} s → "
          f"{result['baseline_posts_per_s']:,} posts/s")
    print(f"ratio {result['ratio']}×, max |difference| over the baseline's posts: {result['max_abs_diff']}")
    if enriched:
        print(f"cryptopulse enrich --rescore: {result['enrich_s']} s wall, {result['enrich_cpu_s']} s CPU, "
              f"peak RSS {result['enrich_peak_rss_mb']} MB (load {result['enrich_load_1min']}), steps {result['enrich_steps_s']}; "
              f"max |difference| from the baseline on its {result['enrich_posts_checked']:,} posts: {result['enrich_max_abs_diff']}")


def measure(args: argparse.Namespace, enriched: dict[str, object] | None) -> dict[str, object]:
    """Score every post with `score_texts` and a sample with the plain loop; with `enriched`, its figures too."""
    ids, texts = post_texts(ensure_raw(args.scale, args.seed))
    started = time.perf_counter()
    ours, distinct = score_texts(texts, args.workers)
    ours_s = time.perf_counter() - started

    n = len(texts) if args.baseline_sample <= 0 else min(args.baseline_sample, len(texts))
    sample = np.sort(np.random.default_rng(args.seed).choice(len(texts), n, replace=False)).tolist()
    started = time.perf_counter()
    baseline = [reference_scores(texts[i]) for i in sample]
    baseline_s = time.perf_counter() - started

    diff = max((abs(a - b) for i, ref in zip(sample, baseline) for a, b in zip(ours[i], ref)), default=0.0)
    result = {
        "posts": len(texts),
        "distinct_texts": distinct,
        "seconds": round(ours_s, 2),
        "posts_per_s": round(len(texts) / ours_s),
        "baseline_posts": n,
        "baseline_seconds": round(baseline_s, 2),
        "baseline_posts_per_s": round(n / baseline_s),
        "ratio": round((len(texts) / ours_s) / (n / baseline_s), 2),
        "max_abs_diff": diff,
    }
    if enriched:
        result.update(enrich_figures(enriched, ids, sample, baseline))
    return result


if __name__ == "__main__":
    main()
