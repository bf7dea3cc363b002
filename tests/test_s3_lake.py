"""The lake on S3 (moto on 127.0.0.1): atomic writes, and a publish that crashes mid-switch is rolled forward."""

from __future__ import annotations

import duckdb
import pytest

from cryptopulse.config import load_settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import build_step, publish_step, run, stage_step
from rawfiles import write_tiny_lake


@pytest.fixture
def s3_lake(s3_env) -> Lake:
    return Lake(f"s3://{s3_env.create_bucket()}/lake")


def test_writes_are_whole_objects_and_hidden_paths_are_not_listed(s3_lake):
    s3_lake.write_bytes("x/ok.json", b"{}")
    with pytest.raises(RuntimeError), s3_lake.writing("x/ok.json") as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half of the new")
        raise RuntimeError("crash")
    assert s3_lake.read_bytes("x/ok.json") == b"{}"
    s3_lake.write_bytes("x/_pending/y.json", b"1")
    assert s3_lake.glob("x/*") == ["x/ok.json"]
    assert s3_lake.uri("x/ok.json").startswith("s3://")


def count_published(lake: Lake, table: str) -> int:
    con = duckdb.connect()
    con.register_filesystem(lake.fs)
    try:
        pattern = "*/*.parquet" if lake.fs.glob(lake.path(f"published/{table}/date=*")) else "*.parquet"
        uri = lake.uri(f"published/{table}/{pattern}")
        return con.execute(f"SELECT count(*) FROM read_parquet('{uri}', hive_partitioning = true)").fetchone()[0]
    finally:
        con.close()


def test_crash_while_switching_on_s3_is_rolled_forward_by_the_next_publish(s3_lake, tmp_path, monkeypatch):
    write_tiny_lake(s3_lake)
    settings = load_settings(lake=s3_lake.url, warehouse=str(tmp_path / "warehouse.duckdb"))
    day1, both = Interval.parse("2024-01-01", "2024-01-02"), Interval.parse("2024-01-01", "2024-01-03")
    run(settings, day1)
    assert count_published(s3_lake, "fct_post") == 3
    stage_step(settings, both)
    build_step(settings, both)

    moves, real_move = {"n": 0}, Lake.move

    def crashing_move(self, src, dst):
        moves["n"] += 1
        if moves["n"] == 3:
            raise KeyboardInterrupt("simulated crash mid-switch")
        return real_move(self, src, dst)

    monkeypatch.setattr(Lake, "move", crashing_move)
    with pytest.raises(KeyboardInterrupt):
        publish_step(settings, both)
    for table in ("fct_post", "fct_coin_hourly", "dim_coin"):
        assert count_published(s3_lake, table) > 0  # every visible object is whole

    monkeypatch.setattr(Lake, "move", real_move)
    publish_step(settings, both)
    assert count_published(s3_lake, "fct_post") == 7
    assert count_published(s3_lake, "fct_coin_hourly") == 96
    assert not s3_lake.fs.glob(s3_lake.path("published/_pending/*"))
