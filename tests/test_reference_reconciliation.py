"""On generated reference data, what staging quarantines and drops is exactly what the generator planted."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from cryptopulse.pipeline import run

# generator manifest count → (dataset, quarantine reason)
PLANTED = {
    "post_missing_id": ("posts", "missing_id"),
    "post_bad_timestamp": ("posts", "bad_timestamp"),
    "post_empty_text": ("posts", "empty_text"),
    "price_negative": ("coin_hourly", "negative_value"),
    "price_null": ("coin_hourly", "null_value"),
    "price_bad_timestamp": ("coin_hourly", "bad_timestamp"),
    "unknown_coin_points": ("coin_hourly", "unknown_coin"),
}


def test_every_planted_malformed_record_is_quarantined_with_its_reason(small):
    report = run(small)
    manifest = json.loads((Path(small.lake) / "raw/synthetic/manifest.json").read_text())
    con = duckdb.connect(small.warehouse, read_only=True)
    held = {(d, r): n for d, r, n in con.execute("SELECT dataset, reason, count(*) FROM quarantine GROUP BY ALL").fetchall()}
    con.close()
    assert held == {PLANTED[k]: v for k, v in manifest["malformed"].items() if k in PLANTED}

    posts = next(s for s in report.staged if s.dataset == "posts")
    assert posts.duplicates == manifest["malformed"]["duplicate_posts"]
    assert posts.received == manifest["posts"] + manifest["duplicates_planted"]
    prices = next(s for s in report.staged if s.dataset == "coin_hourly")
    assert prices.duplicates == manifest["price_second_points"]["hours"]  # the earlier point of each doubled hour
    assert prices.staged == manifest["coin_hours"] - sum(
        manifest["malformed"][k] for k in ("price_negative", "price_null", "price_bad_timestamp")
    )


def test_reconciliation_holds_per_day(small_built):
    con = duckdb.connect(small_built.warehouse, read_only=True)
    rows = con.execute(
        """
        SELECT s.dataset, s.date, s.received, s.duplicates,
               coalesce(q.n, 0) AS quarantined,
               CASE s.dataset WHEN 'posts' THEN (SELECT count(*) FROM fct_post f WHERE f.date = s.date)
                              ELSE (SELECT count(*) FROM fct_coin_hourly f WHERE f.date = s.date) END AS loaded
        FROM staging_stats s
        LEFT JOIN (SELECT dataset, date, count(*) AS n FROM quarantine GROUP BY ALL) q USING (dataset, date)
        """
    ).fetchall()
    con.close()
    assert len(rows) == 2 * 21
    for dataset, day, received, duplicates, quarantined, loaded in rows:
        assert received == loaded + quarantined + duplicates, (dataset, day)
