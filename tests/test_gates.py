"""Gates catch what gets past staging, and a failed gate or a crash never damages what was published."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import published_hashes, table_hashes
from cryptopulse.cli import app
from cryptopulse.engines import open_engine
from cryptopulse.interval import Interval
from cryptopulse.models.registry import load_models
from cryptopulse.pipeline import run
from cryptopulse.quality import run_checks
from cryptopulse.quality.checks import all_checks

STAGED_DAY = "staged/coin_hourly/date=2024-01-01/part-0.csv"


def append_staged_row(settings, row: str) -> None:
    path = Path(settings.lake) / STAGED_DAY
    path.write_text(path.read_text() + row + "\n")


CORRUPTIONS = {
    "conflicting duplicate coin-hour": (
        "bitcoin,2024-01-01 05:00:00,1704085205000,1.0,1.0,1.0,test,x,2024-01-01",
        "fct_coin_hourly.unique(coin_id, time_key)",
    ),
    "orphan coin id": (
        "not-a-coin,2024-01-01 05:00:00,1704085205000,1.0,1.0,1.0,test,x,2024-01-01",
        "fct_coin_hourly.relationship(coin_id -> dim_coin.coin_id)",
    ),
    "negative price": (
        "ethereum,2024-01-01 05:00:00,1704085205000,-5.0,1.0,1.0,test,x,2024-01-01",
        "fct_coin_hourly.range(price_usd in [0, inf])",
    ),
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupted_staged_zone_fails_the_gate_and_publishes_nothing(tiny, cli, kind):
    run(tiny)
    before_published = published_hashes(tiny.lake)
    before_tables = table_hashes(tiny.warehouse)
    row, check = CORRUPTIONS[kind]
    append_staged_row(tiny, row)

    args = ["--lake", tiny.lake, "--warehouse", tiny.warehouse]
    result = cli.invoke(app, ["build", *args])
    assert result.exit_code == 1
    assert check in result.output
    assert "e.g." in result.output  # an example row is shown

    result = cli.invoke(app, ["publish", *args])  # publishing afterwards republishes the untouched warehouse
    assert result.exit_code == 0
    assert published_hashes(tiny.lake) == before_published
    assert table_hashes(tiny.warehouse) == before_tables

    con = duckdb.connect(tiny.warehouse, read_only=True)
    failed = con.execute("SELECT model || '.' || check_name FROM quality_results WHERE NOT passed").fetchall()
    con.close()
    assert (check,) in failed


def test_posts_with_negative_counts_fail_their_gates_rather_than_the_build(tiny, cli):
    run(tiny)
    before_published, before_tables = published_hashes(tiny.lake), table_hashes(tiny.warehouse)
    day = Path(tiny.lake) / "staged/posts/date=2024-01-01/part-0.parquet"
    duckdb.execute(  # every post of the day: one negative count, no other engagement (its weight would be ln 0)
        f"COPY (SELECT * REPLACE (-1 AS reply_count, 0 AS like_count, 0 AS retweet_count, 0 AS quote_count, "
        f"NULL AS score, 0 AS num_comments) FROM read_parquet('{day}')) TO '{day}.new' (FORMAT parquet)"
    )
    Path(f"{day}.new").replace(day)

    result = cli.invoke(app, ["build", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 1, result.output
    assert "fct_post.range(reply_count in [0, inf])" in result.output
    assert table_hashes(tiny.warehouse) == before_tables and published_hashes(tiny.lake) == before_published


def test_building_days_that_were_never_staged_fails_the_gate(tiny, cli):
    run(tiny, Interval.parse("2024-01-01", "2024-01-02"))
    result = cli.invoke(app, ["build", "--start", "2024-01-01", "--end", "2024-01-03", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 1
    assert "staged_coverage" in result.output and "2024-01-02" in result.output


def test_each_gate_counts_in_the_shared_query_what_its_own_query_returns(tiny):
    """The gates are counted together (one scan per model's rows); each count must equal its violations query's."""
    interval = run(tiny).interval
    con = duckdb.connect(tiny.warehouse)
    for model in load_models():  # break every kind of check: duplicates, nulls, out-of-range values, stale rows
        con.execute(f"INSERT INTO {model.name} SELECT * FROM {model.name} LIMIT 2")
        for col in model.not_null:
            con.execute(f"UPDATE {model.name} SET {col} = NULL WHERE rowid IN (SELECT rowid FROM {model.name} LIMIT 1 OFFSET 1)")
        for rng in model.ranges:
            wrong = rng["min"] - 1 if "min" in rng else rng["max"] + 1
            con.execute(f"UPDATE {model.name} SET {rng['column']} = {wrong} WHERE rowid IN (SELECT rowid FROM {model.name} LIMIT 3)")
        if model.freshness:
            con.execute(f"UPDATE {model.name} SET {model.freshness['column']} = {model.freshness['column']} - INTERVAL 400 DAY")
    con.execute("UPDATE fct_coin_hourly SET coin_id = 'not-a-coin' WHERE rowid IN (SELECT rowid FROM fct_coin_hourly LIMIT 1 OFFSET 2)")
    con.execute("DELETE FROM agg_coin_monthly")  # empty
    con.close()

    engine = open_engine(tiny)
    try:
        results = run_checks(engine, interval)
        expected = [engine.fetchall(f"SELECT count(*) FROM ({c.violations_sql}) AS v")[0][0] for c in all_checks(interval, 36)]
    finally:
        engine.close()
    assert [r.failing_rows for r in results] == expected
    failed = {r.name.split("(")[0] for r in results if not r.passed}
    assert {"non_empty", "not_null", "range", "unique", "freshness", "relationship"} <= failed, failed
