"""Benchmark sentiment scoring on the reference dataset: cryptopulse's scorer vs a plain vaderSentiment loop.

    python bench/sentiment.py [--scale 1] [--baseline-sample 200000] [--workers N] [--json]

Both sides score the same posts (every distinct tweet of the reference raw zone, by id) with
the same lexicon (VADER + the crypto words) and the same text cleaning. cryptopulse: retweet prefix
stripped, identical texts scored once, `FastVader` in parallel processes (`score_texts`). Baseline:
`SentimentIntensityAnalyzer.polarity_scores` on every post, one process. At scale 1 the baseline runs
on a seeded random sample of posts (`--baseline-sample`, 0 = all) and its rate is posts per second on
that sample; `max_abs_diff` compares both sides on every sampled post. `--json` prints {"posts",
"posts_per_s", "baseline_posts_per_s", "ratio", "max_abs_diff", ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import ensure_raw  # noqa: E402
from cryptopulse.analysis.scoring import reference_scores, score_texts  # noqa: E402


def post_texts(lake: Path) -> list[str]:
    """The text of every distinct post (repeated pages hold the same posts) in the raw zone, by id."""
    pattern = str(lake / "raw" / "synthetic" / "x" / "posts" / "date=*" / "*.jsonl.gz")
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"""
            WITH posts AS (
                SELECT unnest(data) AS post
                FROM read_json('{pattern}', format = 'newline_delimited', columns = {{data: 'STRUCT(id VARCHAR, text VARCHAR)[]'}})
            )
            SELECT any_value(post.text) FROM posts
            WHERE post.id IS NOT NULL AND post.text IS NOT NULL AND post.text <> ''
            GROUP BY post.id ORDER BY post.id
            """
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline-sample", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    texts = post_texts(ensure_raw(args.scale, args.seed))
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
    if args.json:
        print(json.dumps(result))
        return
    print(f"posts: {len(texts):,} ({distinct:,} distinct after the retweet prefix)")
    print(f"cryptopulse score_texts: {ours_s:.1f} s → {result['posts_per_s']:,} posts/s")
    print(f"plain vaderSentiment loop on {n:,} posts: {baseline_s:.1f} s → {result['baseline_posts_per_s']:,} posts/s")
    print(f"ratio {result['ratio']}×, max |difference| over the baseline's posts: {diff}")


if __name__ == "__main__":
    main()
