"""Every table keeps its grain on synthetic data, and the monthly aggregate matches pandas."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cryptopulse.models import load_models


@pytest.fixture
def built(small_built):
    return small_built  # run once for the session: these tests only read it


# fct_post_sentiment stays empty until `cryptopulse enrich`; its key is checked in test_marts.py
@pytest.mark.parametrize("model", [m for m in load_models() if m.unique_key and m.name != "fct_post_sentiment"], ids=lambda m: m.name)
def test_no_duplicate_keys(built, model):
    key = ", ".join(model.unique_key)
    con = duckdb.connect(built.warehouse, read_only=True)
    total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({key})) FROM {model.name}").fetchone()
    con.close()
    assert total > 0
    assert total == distinct


def test_monthly_aggregate_equals_pandas_over_the_staged_csv(built):
    files = sorted((Path(built.lake) / "staged" / "coin_hourly").glob("date=*/part-0.csv"))
    hourly = pd.concat([pd.read_csv(f, parse_dates=["ts_hour"]) for f in files], ignore_index=True)
    hourly["month"] = hourly["ts_hour"].dt.strftime("%Y-%m-01")
    hourly = hourly.sort_values(["coin_id", "ts_hour"])
    expected = (
        hourly.groupby(["coin_id", "month"])
        .agg(
            min_price_usd=("price_usd", "min"),
            max_price_usd=("price_usd", "max"),
            min_market_cap_usd=("market_cap_usd", "min"),
            max_market_cap_usd=("market_cap_usd", "max"),
            min_volume_usd=("volume_usd", "min"),
            max_volume_usd=("volume_usd", "max"),
            first_price_usd=("price_usd", "first"),
            last_price_usd=("price_usd", "last"),
            hours=("price_usd", "size"),
        )
        .reset_index()
    )
    con = duckdb.connect(built.warehouse, read_only=True)
    actual = con.execute(f"SELECT {', '.join(expected.columns)} FROM agg_coin_monthly ORDER BY coin_id, month").df()
    con.close()
    actual["hours"] = actual["hours"].astype("int64")
    actual["month"] = pd.to_datetime(actual["month"]).dt.strftime("%Y-%m-01")
    expected["hours"] = expected["hours"].astype("int64")
    assert len(actual) == len(expected) > 0
    pd.testing.assert_frame_equal(actual.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_bridge_rows_per_post_match_the_generator_mix(built):
    con = duckdb.connect(built.warehouse, read_only=True)
    per_post = con.execute(
        "SELECT coalesce(b.n, 0) AS coins, count(*) FROM fct_post p "
        "LEFT JOIN (SELECT post_id, count(*) AS n FROM bridge_post_coin GROUP BY post_id) b USING (post_id) GROUP BY 1"
    ).fetchall()
    con.close()
    counts = dict(per_post)
    total = sum(counts.values())
    multi = sum(v for k, v in counts.items() if k >= 2) / total
    assert 0.05 < multi < 0.2  # the generator plants ~10 % posts naming two or more coins
    assert counts.get(1, 0) / total > 0.6
