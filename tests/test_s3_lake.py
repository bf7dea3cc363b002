"""The lake on S3 (moto on 127.0.0.1): atomic writes, and a publish killed before its switch is invisible and undone."""

from __future__ import annotations

import duckdb
import pytest
from deltalake import DeltaTable

from cryptopulse.config import load_settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake import publish as publish_mod
from cryptopulse.pipeline import build_step, publish_step, run, stage_step
from cryptopulse.read import open_snapshot
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
    """Rows of `table` in the published version, read as readers read it (manifest → that version's objects)."""
    with open_snapshot(lake) as snapshot:
        return snapshot.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_publish_on_s3_killed_before_its_switch_leaves_the_previous_version_and_the_next_one_restores(s3_lake, tmp_path, monkeypatch):
    write_tiny_lake(s3_lake)
    settings = load_settings(lake=s3_lake.url, warehouse=str(tmp_path / "warehouse.duckdb"))
    day1, both = Interval.parse("2024-01-01", "2024-01-02"), Interval.parse("2024-01-01", "2024-01-03")
    run(settings, day1)
    assert count_published(s3_lake, "fct_post") == 3
    stage_step(settings, both)
    build_step(settings, both)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated kill before the switch")

    real_switch = publish_mod.write_manifest
    monkeypatch.setattr(publish_mod, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        publish_step(settings, both)
    assert count_published(s3_lake, "fct_post") == 3  # the Delta commits past the manifest are invisible
    assert DeltaTable(s3_lake.uri("published/fct_post"), storage_options=publish_mod.storage_options(s3_lake)).version() > 0

    monkeypatch.setattr(publish_mod, "write_manifest", real_switch)
    publish_step(settings, both)
    assert count_published(s3_lake, "fct_post") == 7
    assert count_published(s3_lake, "fct_coin_hourly") == 96
    with open_snapshot(s3_lake) as snapshot, pytest.raises(duckdb.Error, match="disabled by configuration"):
        snapshot.cursor().execute("SELECT * FROM read_text('/etc/hostname')").fetchall()
