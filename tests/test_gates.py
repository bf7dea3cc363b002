"""Gates catch what gets past staging, and a failed gate or a crash never damages what was published."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import published_hashes, table_hashes
from cryptopulse.cli import app
from cryptopulse.engines.duckdb import DuckDBEngine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import build_step, publish_step, run, stage_step

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


def test_crash_while_exporting_leaves_previous_version(tiny, monkeypatch):
    day1, both = Interval.parse("2024-01-01", "2024-01-02"), Interval.parse("2024-01-01", "2024-01-03")
    run(tiny, day1)
    before = published_hashes(tiny.lake)
    stage_step(tiny, both)
    build_step(tiny, both)
    calls = {"n": 0}
    real_export = DuckDBEngine.export_parquet

    def crashing_export(self, sql, local_dir, partition_by):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated crash mid-publish")
        return real_export(self, sql, local_dir, partition_by)

    monkeypatch.setattr(DuckDBEngine, "export_parquet", crashing_export)
    with pytest.raises(KeyboardInterrupt):
        publish_step(tiny, both)
    visible = {k: v for k, v in published_hashes(tiny.lake).items() if not k.startswith("_")}
    assert visible == before
    assert read_published(tiny.lake, "fct_post") == 3  # day 1's posts only, still readable

    monkeypatch.setattr(DuckDBEngine, "export_parquet", real_export)
    publish_step(tiny, both)  # the rerun discards the abandoned export and publishes
    assert read_published(tiny.lake, "fct_post") == 7
    assert not any(k.startswith("_pending") for k in published_hashes(tiny.lake))


def test_crash_while_switching_is_rolled_forward_by_the_next_publish(tiny, monkeypatch):
    day1, both = Interval.parse("2024-01-01", "2024-01-02"), Interval.parse("2024-01-01", "2024-01-03")
    run(tiny, day1)
    stage_step(tiny, both)
    build_step(tiny, both)
    moves = {"n": 0}
    real_move = Lake.move

    def crashing_move(self, src, dst):
        moves["n"] += 1
        if moves["n"] == 3:
            raise KeyboardInterrupt("simulated crash mid-switch")
        return real_move(self, src, dst)

    monkeypatch.setattr(Lake, "move", crashing_move)
    with pytest.raises(KeyboardInterrupt):
        publish_step(tiny, both)
    for table in ("fct_post", "fct_coin_hourly", "dim_coin"):
        assert read_published(tiny.lake, table) > 0  # every visible file is whole

    monkeypatch.setattr(Lake, "move", real_move)
    publish_step(tiny, both)
    assert read_published(tiny.lake, "fct_post") == 7
    assert read_published(tiny.lake, "fct_coin_hourly") == 96


def read_published(lake_root: str, table: str) -> int:
    root = Path(lake_root) / "published" / table
    pattern = "*/*.parquet" if any(p.is_dir() for p in root.iterdir()) else "*.parquet"
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT count(*) FROM read_parquet('{root}/{pattern}', hive_partitioning = true)").fetchone()[0]
    finally:
        con.close()


def test_building_days_that_were_never_staged_fails_the_gate(tiny, cli):
    run(tiny, Interval.parse("2024-01-01", "2024-01-02"))
    result = cli.invoke(app, ["build", "--start", "2024-01-01", "--end", "2024-01-03", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 1
    assert "staged_coverage" in result.output and "2024-01-02" in result.output
