"""`cryptopulse enrich` and `analyze` end to end: incremental, idempotent, and their command lines."""

from __future__ import annotations

import json

import duckdb

from conftest import published_hashes, table_hashes
from cryptopulse.analysis.enrich import enrich
from cryptopulse.cli import app
from cryptopulse.interval import Interval
from cryptopulse.pipeline import run

ENRICHED = ("fct_post_sentiment", "mart_coin_hourly", "mart_coin_daily")


def count(settings, sql: str) -> int:
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_enrich_scores_only_unscored_posts_and_reruns_change_nothing(small):
    whole = run(small).interval
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
    assert any(name.startswith("mart_coin_hourly/") for name in published)


def test_enrich_in_two_halves_equals_one_enrich(small):
    whole = run(small).interval
    half = Interval(whole.start, whole.start + (whole.end - whole.start) / 2)
    assert enrich(small, half, workers=1, publish=False).rebuilt == [str(half.start), str(whole.end)]
    assert enrich(small, workers=1, publish=False).rebuilt == [str(half.end), str(whole.end)]
    halves = table_hashes(small.warehouse, ENRICHED)
    once = enrich(small, workers=1, rescore=True, publish=False)  # every day again, in one call
    assert once.rebuilt == [str(whole.start), str(whole.end)] and once.posts_scored == halves["fct_post_sentiment"][0]
    assert table_hashes(small.warehouse, ENRICHED) == halves


def test_a_pipeline_run_after_enrich_keeps_the_scores_and_marts(small):
    run(small)
    enrich(small, workers=1, publish=False)
    before = table_hashes(small.warehouse)
    run(small)  # restages and rebuilds every model, marts included, from the staged scores
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
