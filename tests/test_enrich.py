"""`cryptopulse enrich` and `analyze` end to end: incremental, idempotent, and their command lines."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from conftest import published_hashes, settings_for, table_hashes
from cryptopulse.analysis.enrich import enrich, write_days
from cryptopulse.analysis.flags import flag_posts
from cryptopulse.analysis.lexicon import CRYPTO_WORDS
from cryptopulse.analysis.scoring import clean, without_retweet_prefix
from cryptopulse.cli import app
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run
from cryptopulse.staging.common import staged_extent

ENRICHED = ("fct_post_sentiment", "mart_coin_hourly", "mart_coin_daily")


def count(settings, sql: str) -> int:
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_enrich_scores_only_unscored_posts_and_reruns_change_nothing(small_built_copy):
    small = small_built_copy
    whole = staged_extent(Lake(small.lake))
    half = Interval(whole.start, whole.start + (whole.end - whole.start) / 2)
    first = enrich(small, half, workers=1)
    assert first.posts_scored == count(small, f"SELECT count(*) FROM fct_post WHERE date < DATE '{half.end}'") > 1_000
    assert count(small, f"SELECT count(*) FROM fct_post_sentiment WHERE date >= DATE '{half.end}'") == 0
    rest = enrich(small, workers=1)
    assert rest.posts_scored == count(small, f"SELECT count(*) FROM fct_post WHERE date >= DATE '{half.end}'")
    tables, published = table_hashes(small.warehouse), published_hashes(small.lake)

    again = enrich(small, workers=1)
    assert (again.posts_scored, again.rebuilt) == (0, None)
    assert table_hashes(small.warehouse) == tables

    rescored = enrich(small, workers=2, rescore=True)  # from raw text again, in two processes: the same scores
    assert rescored.posts_scored == tables["fct_post"][0]
    assert table_hashes(small.warehouse) == tables
    assert published_hashes(small.lake) == published
    assert published["mart_coin_hourly"] == table_hashes(small.warehouse, ("mart_coin_hourly",))["mart_coin_hourly"]
    assert published["mart_coin_hourly"][0] > 0


def test_enrich_in_two_halves_equals_one_enrich(small_built_copy):
    small = small_built_copy
    whole = staged_extent(Lake(small.lake))
    half = Interval(whole.start, whole.start + (whole.end - whole.start) / 2)
    assert enrich(small, half, workers=1, publish=False).rebuilt == [str(half.start), str(whole.end)]
    assert enrich(small, workers=1, publish=False).rebuilt == [str(half.end), str(whole.end)]
    halves = table_hashes(small.warehouse, ENRICHED)
    once = enrich(small, workers=1, rescore=True, publish=False)  # every day again, in one call
    assert once.rebuilt == [str(whole.start), str(whole.end)] and once.posts_scored == halves["fct_post_sentiment"][0]
    assert table_hashes(small.warehouse, ENRICHED) == halves


def test_a_pipeline_run_after_enrich_keeps_the_scores_and_marts(small_built_copy):
    small = small_built_copy
    enrich(small, workers=1, publish=False)
    before = table_hashes(small.warehouse)
    run(small)  # restages and rebuilds every model, marts included, from the landed scores
    assert table_hashes(small.warehouse) == before


def test_cli_enrich_and_analyze(small, cli):
    opts = ["--lake", small.lake, "--warehouse", small.warehouse]
    assert cli.invoke(app, ["analyze", *opts]).exit_code == 2  # no warehouse yet: one-line error
    assert cli.invoke(app, ["run", *opts]).exit_code == 0
    no_scores = cli.invoke(app, ["analyze", *opts])
    assert no_scores.exit_code == 2 and "cryptopulse enrich" in no_scores.output

    result = cli.invoke(app, ["enrich", "--workers", "1", "--json", *opts])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["posts_scored"] == report["posts_in_days"] > 10_000
    assert report["flagged_posts"] == report["flagged"]["is_spam_pattern"] > 100  # the planted airdrop bots
    assert "nothing to score" in cli.invoke(app, ["enrich", *opts]).output

    result = cli.invoke(app, ["analyze", "--coin", "bitcoin", "--max-lag", "6", "--json", *opts])
    assert result.exit_code == 0, result.output
    coin = json.loads(result.output)["coins"]["bitcoin"]
    assert set(coin["sentiment"]) == {"lag", "sign", "r", "p_adjusted", "significant"}
    assert set(coin["granger"]) == {"sentiment->returns", "returns->sentiment", "volume->returns", "returns->volume"}

    text = cli.invoke(app, ["analyze", "--coin", "tether", "--shuffle", "3", "--no-charts", *opts]).output
    assert "tether" in text and "analysis_lead_lag" in text
    bad = cli.invoke(app, ["analyze", "--max-lag", "0", *opts])
    assert bad.exit_code == 2 and "--max-lag" in bad.output
    assert cli.invoke(app, ["enrich", "--workers", "0", *opts]).exit_code == 2


def test_landed_scores_and_flags_equal_vadersentiment_and_the_flags_of_each_day_per_post(small_built_copy):
    """What enrich lands per post equals a plain per-post computation: vaderSentiment's `polarity_scores` of the
    cleaned text (crypto words added), the flags of the day's posts from a pandas frame; one file per day, in key order."""
    small = small_built_copy
    enrich(small, publish=False)  # every core: the scorer's process pool and its cache across months
    con = duckdb.connect(small.warehouse, read_only=True)
    try:
        posts = con.execute("SELECT post_id, source, text, author_id, created_at, date FROM fct_post ORDER BY date, source, post_id").df()
        landed = con.execute(
            f"SELECT *, regexp_extract(filename, 'date=([0-9-]+)', 1) AS folder "
            f"FROM read_parquet('{small.lake}/enriched/post_sentiment/date=*/part-0.parquet', filename = true)"
        ).df()
    finally:
        con.close()
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({w: v for w, (v, _) in CRYPTO_WORDS.items()})
    vader = [analyzer.polarity_scores(clean(without_retweet_prefix(t))) for t in posts["text"]]
    expected = posts[["post_id", "source"]].assign(
        **{c: [s[c] for s in vader] for c in ("compound", "pos", "neu", "neg")},
        **pd.concat([flag_posts(day.reset_index(drop=True)) for _, day in posts.groupby("date", sort=True)], ignore_index=True),
    )
    assert len(landed) == len(posts) > 10_000
    assert landed["folder"].tolist() == posts["date"].astype(str).tolist()  # each day's file, its rows in key order
    assert landed[expected.columns].to_dict("records") == expected.to_dict("records")
    assert expected["is_spam_pattern"].sum() > 100 and expected["compound"].abs().gt(0.05).mean() > 0.5  # a real test


def test_each_day_lands_in_its_own_enriched_file_with_its_rows_in_key_order(tmp_path):
    keys = [(dt.date(2024, 1, d), s, f"p{i}") for d in (3, 1, 2) for s in ("x", "reddit") for i in (10, 9, 1)]
    shuffled = [keys[i] for i in np.random.default_rng(1).permutation(len(keys))]
    lake = Lake(str(tmp_path / "lake"))
    write_days(lake, pa.table({"post_id": [k[2] for k in shuffled], "source": [k[1] for k in shuffled],
                               "compound": [float(k[0].day) for k in shuffled], "date": [k[0] for k in shuffled]}))
    for day in (1, 2, 3):
        rows = pq.read_table(lake.path(f"enriched/post_sentiment/date=2024-01-0{day}/part-0.parquet")).to_pylist()
        assert [(r["date"], r["source"], r["post_id"]) for r in rows] == sorted(k for k in keys if k[0].day == day)
        assert {r["compound"] for r in rows} == {float(day)}


def test_scores_an_older_enrich_left_in_the_staged_zone_block_builds_until_enrich_moves_them(small_enriched, tmp_path, cli):
    settings = settings_for(tmp_path)
    shutil.copytree(small_enriched.lake, settings.lake)
    shutil.copy(small_enriched.warehouse, settings.warehouse)
    lake, tables = Lake(settings.lake), table_hashes(settings.warehouse)
    files = {f: hashlib.sha256(lake.read_bytes(f)).hexdigest() for f in lake.glob("enriched/post_sentiment/date=*/part-0.parquet")}
    assert len(files) > 10
    shutil.move(lake.path("enriched/post_sentiment"), lake.path("staged/post_sentiment"))  # where enrich wrote them before

    opts = ["--lake", settings.lake, "--warehouse", settings.warehouse]
    refused = cli.invoke(app, ["build", *opts])
    assert refused.exit_code == 2 and refused.output.count("\n") == 1, refused.output
    assert "staged/post_sentiment" in refused.output and "run `cryptopulse enrich` once" in refused.output

    moved = enrich(settings, workers=1, publish=False)
    assert (moved.posts_scored, moved.rebuilt) == (0, None)  # every score found: nothing rescored, nothing rebuilt
    assert not lake.exists("staged/post_sentiment")
    assert {f: hashlib.sha256(lake.read_bytes(f)).hexdigest() for f in lake.glob("enriched/post_sentiment/date=*/part-0.parquet")} == files
    assert cli.invoke(app, ["build", *opts]).exit_code == 0
    assert table_hashes(settings.warehouse) == tables
