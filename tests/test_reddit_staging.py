"""Reddit listings in the raw zone become fct_post rows with source 'reddit', beside X posts."""

from __future__ import annotations

import duckdb

from cryptopulse.lake import Lake
from cryptopulse.pipeline import run
from rawfiles import write_reddit


def test_reddit_posts_land_in_fct_post_with_score_comments_and_subreddit(tiny):
    write_reddit(Lake(tiny.lake))
    report = run(tiny)
    con = duckdb.connect(tiny.warehouse, read_only=True)
    rows = con.execute(
        "SELECT post_id, source, created_at::VARCHAR, author, text, score, num_comments, channel "
        "FROM fct_post WHERE source = 'reddit' ORDER BY post_id"
    ).fetchall()
    bridge = con.execute("SELECT post_id, coin_id FROM bridge_post_coin WHERE source = 'reddit' ORDER BY ALL").fetchall()
    sources = con.execute("SELECT source, count(*) FROM fct_post GROUP BY 1 ORDER BY 1").fetchall()
    held = con.execute("SELECT reason, raw_file FROM quarantine WHERE source = 'reddit'").fetchall()
    con.close()
    assert rows == [
        ("t3_a", "reddit", "2024-01-01 12:00:00", "hodler42", "Is $ETH undervalued?\n\nThinking about bitcoin too.", 120, 45,
         "CryptoCurrency"),
        ("t3_b", "reddit", "2024-01-01 13:00:00", "hodler42", "Daily discussion", 5, 2, "CryptoCurrency"),
    ]
    assert bridge == [("t3_a", "bitcoin"), ("t3_a", "ethereum")]
    assert sources == [("reddit", 2), ("test", 7)]
    # the post without a timestamp arrived twice (the page was fetched twice): both copies are held
    assert held == [("bad_timestamp", "raw/reddit/reddit/posts/date=2024-01-01/part-0000.jsonl.gz")] * 2
    posts = next(s for s in report.staged if s.dataset == "posts")
    assert (posts.received, posts.staged, posts.duplicates) == (11 + 6, 7 + 2, 1 + 2)
