"""The social marts: literal rows on the tiny lake, an independent pandas computation on the small one."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cryptopulse.analysis.enrich import enrich
from cryptopulse.analysis.lexicon import CRYPTO_WORDS
from cryptopulse.pipeline import run


def frame(settings, sql: str) -> pd.DataFrame:
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def compound(text: str) -> float:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({w: v for w, (v, _) in CRYPTO_WORDS.items()})
    return analyzer.polarity_scores(text)["compound"]


@pytest.fixture
def tiny_enriched(tiny):
    run(tiny)
    enrich(tiny, workers=1, publish=False)
    return tiny


def test_hourly_mart_on_the_tiny_lake(tiny_enriched):
    # the texts as VADER sees them: cashtags become 'cashtag'
    c1 = compound("cashtag and cashtag both pumping, great day")
    c2 = compound("One more day of #bitcoin hodl. Link in bio")
    c3 = compound("ethereum ethereum ETH cashtag")
    got = frame(
        tiny_enriched,
        "SELECT coin_id, time_key, price_usd, return_1h, posts, flagged_posts, scored_posts, unique_authors, social_dominance, "
        "sentiment_mean, sentiment_weighted, share_bullish, share_bearish FROM mart_coin_hourly "
        "WHERE (coin_id = 'bitcoin' AND time_key IN (2024010100, 2024010101, 2024010102)) "
        "OR (coin_id = 'ethereum' AND time_key IN (2024010101, 2024010123)) ORDER BY coin_id, time_key",
    )
    nan = float("nan")
    expected = pd.DataFrame(
        [
            ("bitcoin", 2024010100, 42000.0, nan, 0, 0, 0, 0, nan, nan, nan, nan, nan),
            ("bitcoin", 2024010101, 42001.0, math.log(42001 / 42000), 1, 0, 1, 1, 1.0, c1, c1, 1.0, 0.0),
            ("bitcoin", 2024010102, 42002.0, math.log(42002 / 42001), 1, 0, 1, 1, 1.0, c2, c2, float(c2 >= 0.05), float(c2 <= -0.05)),
            ("ethereum", 2024010101, 2301.0, math.log(2301 / 2300), 1, 0, 1, 1, 1.0, c1, c1, 1.0, 0.0),
            ("ethereum", 2024010123, 2323.0, math.log(2323 / 2322), 1, 0, 1, 1, 1.0, c3, c3, float(c3 >= 0.05), float(c3 <= -0.05)),
        ],
        columns=got.columns,
    )
    assert c1 > 0.05  # 'pumping' and 'great'
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-12)
    # every tracked coin has every hour, priced or not
    assert frame(tiny_enriched, "SELECT count(*) AS n FROM mart_coin_hourly")["n"][0] == 4 * 48


def test_daily_mart_on_the_tiny_lake(tiny_enriched):
    c1 = compound("cashtag and cashtag both pumping, great day")
    c2 = compound("One more day of #bitcoin hodl. Link in bio")
    c8 = compound("Bitcoin Cash is not bitcoin. bitcoin cash!")
    got = frame(
        tiny_enriched,
        "SELECT date, open_usd, close_usd, return_1d, volume_usd, price_hours, posts, unique_authors, sentiment_mean, "
        "baseline_days, sentiment_z FROM mart_coin_daily WHERE coin_id = 'bitcoin' ORDER BY date",
    )
    assert got.drop(columns=["date", "return_1d", "sentiment_mean", "sentiment_z"]).values.tolist() == [
        [42000.0, 42023.0, 1e9 + 23, 24, 2, 1, 0],
        [42024.0, 42047.0, 1e9 + 47, 24, 1, 1, 1],
    ]
    assert np.isnan(got["return_1d"][0]) and got["return_1d"][1] == pytest.approx(math.log(42047 / 42023))
    assert got["sentiment_mean"].tolist() == pytest.approx([(c1 + c2) / 2, c8])
    assert got["sentiment_z"].isna().all()  # fewer than 10 baseline days


def pandas_hourly(settings) -> pd.DataFrame:
    """mart_coin_hourly's social columns, computed in pandas from the fact tables."""
    posts = frame(
        settings,
        "SELECT b.coin_id, b.time_key, b.post_id, b.source, p.author_id, s.compound, s.is_flagged, "
        "p.like_count, p.retweet_count, p.reply_count, p.quote_count FROM bridge_post_coin b "
        "JOIN fct_post p USING (source, post_id) JOIN fct_post_sentiment s USING (source, post_id)",
    )
    kept = posts[~posts["is_flagged"]].copy()
    engagement = kept[["like_count", "retweet_count", "reply_count", "quote_count"]].fillna(0).sum(axis=1)
    kept["weight"] = 1 + np.log1p(engagement)
    kept["wc"] = kept["weight"] * kept["compound"]
    g = kept.groupby(["coin_id", "time_key"])
    out = pd.DataFrame(
        {
            "posts": g.size(),
            "unique_authors": g["author_id"].nunique(),
            "sentiment_mean": g["compound"].mean(),
            "sentiment_weighted": g["wc"].sum() / g["weight"].sum(),
            "share_bullish": g["compound"].apply(lambda c: (c >= 0.05).mean()),
        }
    )
    totals = kept.drop_duplicates(["time_key", "source", "post_id"]).groupby("time_key").size()
    out["social_dominance"] = out["posts"] / totals.reindex(out.index.get_level_values("time_key")).to_numpy()
    out["flagged_posts"] = posts[posts["is_flagged"]].groupby(["coin_id", "time_key"]).size().reindex(out.index).fillna(0)
    return out


def test_enriched_tables_keep_their_grain(small_enriched):
    counts = frame(
        small_enriched,
        "SELECT (SELECT count(*) FROM fct_post) AS posts, (SELECT count(*) FROM fct_post_sentiment) AS scored, "
        "(SELECT count(DISTINCT (source, post_id)) FROM fct_post_sentiment) AS scored_keys, "
        "(SELECT count(*) FROM mart_coin_hourly) AS hours, "
        "(SELECT count(DISTINCT (coin_id, time_key)) FROM mart_coin_hourly) AS hour_keys, "
        "(SELECT count(*) FROM dim_time) * (SELECT count(*) FROM dim_coin WHERE is_tracked) AS coin_hours",
    ).iloc[0]
    assert counts["posts"] == counts["scored"] == counts["scored_keys"] > 10_000
    assert counts["hours"] == counts["hour_keys"] == counts["coin_hours"]


def test_hourly_mart_matches_pandas_on_the_small_lake(small_enriched):
    mart = frame(small_enriched, "SELECT * FROM mart_coin_hourly WHERE posts > 0").set_index(["coin_id", "time_key"]).sort_index()
    expected = pandas_hourly(small_enriched).sort_index()
    assert len(mart) == len(expected) > 1_000
    for column in expected.columns:
        np.testing.assert_allclose(mart[column].astype(float), expected[column].astype(float), rtol=1e-9, err_msg=column)
    assert frame(small_enriched, "SELECT sum(flagged_posts) AS n FROM mart_coin_hourly")["n"][0] > 100  # the bots, kept aside


def test_daily_z_scores_match_a_trailing_20_day_baseline_in_pandas(small_enriched):
    daily = frame(small_enriched, "SELECT coin_id, date, sentiment_mean, posts, baseline_days, sentiment_z, posts_z FROM mart_coin_daily")
    for _, d in daily.sort_values("date").groupby("coin_id"):
        trailing = d["sentiment_mean"].shift(1).rolling(20, min_periods=1)
        count = d["sentiment_mean"].shift(1).rolling(20, min_periods=1).count()
        z = (d["sentiment_mean"] - trailing.mean()) / trailing.std()
        z[count < 10] = np.nan
        np.testing.assert_allclose(d["sentiment_z"].astype(float), z, rtol=1e-6)
        np.testing.assert_array_equal(d["baseline_days"].to_numpy()[1:], count.to_numpy()[1:])
    assert daily["sentiment_z"].notna().sum() > 20  # 21 days: the last 11 days of each coin have a baseline


def test_the_intermediate_mentions_are_built_and_checked_but_never_published(tiny):
    from cryptopulse.lake import Lake
    from cryptopulse.lake.manifest import read_manifest

    report = run(tiny)
    assert {"int_coin_mentions.unique(source, post_id, coin_id)", "int_coin_mentions.range(weight in [1, inf])"} <= {
        f"{c.model}.{c.name}" for c in report.checks}
    counts = frame(tiny, "SELECT (SELECT count(*) FROM int_coin_mentions) AS mentions, (SELECT count(*) FROM bridge_post_coin) AS bridge")
    assert counts.mentions[0] == counts.bridge[0] > 0
    published = read_manifest(Lake(tiny.lake))["tables"]
    assert "int_coin_mentions" not in published and {"mart_coin_hourly", "mart_coin_daily", "bridge_post_coin"} <= set(published)
