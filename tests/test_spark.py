"""The Spark engine (local[2]) builds the same tables as DuckDB, and its incremental runs are idempotent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import DATA_TABLES, published_hashes
from cryptopulse.config import Settings, load_settings
from cryptopulse.engines.spark import CATALOG, spark_warehouse
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.publish import published_tables
from cryptopulse.pipeline import GateFailed, RunReport, build_step, run
from cryptopulse.staging.run import raw_extent


def spark_settings(root: Path) -> Settings:
    return load_settings(lake=str(root / "lake"), warehouse=str(root / "warehouse.duckdb"), engine="spark")


def copy_raw(small_raw: Path, root: Path) -> None:
    shutil.copytree(small_raw / "raw", root / "lake" / "raw")


@pytest.fixture(scope="module")
def spark_halves(spark, small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RunReport, Interval]:
    """A Spark warehouse built by two runs over adjacent halves of the small dataset's days (the first from an
    empty lake, the second incremental); its settings, the second run's report, and the whole interval."""
    root = tmp_path_factory.mktemp("spark-halves")
    copy_raw(small_raw, root)
    settings = spark_settings(root)
    whole = raw_extent(Lake(settings.lake), settings.plausible_since)
    middle = whole.start + (whole.end - whole.start) / 2
    first = run(settings, Interval(whole.start, middle))
    second = run(settings, Interval(middle, whole.end))
    assert first.status == second.status == "ok" and second.interval == Interval(middle, whole.end)
    return settings, second, whole


def spark_table_hashes(settings: Settings) -> dict[str, tuple[int, str]]:
    """Row count and exact content hash of every data table of a Spark warehouse."""
    return {table: content_hash(spark_table_sql(settings, table)) for table in DATA_TABLES}


def published_contents(lake: str) -> dict[str, tuple[int, str]]:
    """Row count and exact content hash of every published table, whatever files hold it."""
    return {table: content_hash(published_sql(lake, table)) for table, _, _ in published_tables()}


def published_sql(lake: str, table: str) -> str:
    """A DuckDB query over `table` in the published version: exactly the files its manifest lists."""
    files = json.loads((Path(lake) / "published" / "_manifest.json").read_text())["tables"][table]["file_list"]
    return parquet_sql_of([str(Path(lake) / f) for f in files])


def spark_table_sql(settings: Settings, table: str) -> str:
    """A DuckDB query over a Spark warehouse table, in the catalog's (the model's) column order."""
    warehouse = Path(spark_warehouse(settings.warehouse))
    fields = json.loads((warehouse / CATALOG / f"{table}.json").read_text())["schema"]["fields"]
    return parquet_sql(warehouse / table, ", ".join(f["name"] for f in fields))


def parquet_sql(folder: Path, columns: str = "*") -> str:
    return parquet_sql_of(sorted(str(f) for f in folder.rglob("*.parquet")), columns)


def parquet_sql_of(files: list[str], columns: str = "*") -> str:
    return f"SELECT {columns} FROM read_parquet({files}, hive_partitioning = true)" if files else "SELECT NULL AS nothing WHERE false"


def content_hash(sql: str) -> tuple[int, str]:
    rows = duckdb.sql(f"SELECT CAST(t AS VARCHAR) AS r FROM ({sql}) AS t ORDER BY r").fetchall()
    return len(rows), hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def sorted_frame(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The rows of `sql`, sorted by every column (floats last, so that keys decide the order)."""
    frame = (con or duckdb).sql(sql).df()
    floats = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    return frame.sort_values([c for c in frame.columns if c not in floats] + floats, ignore_index=True)


def duckdb_table_frame(settings: Settings, table: str) -> pd.DataFrame:
    with duckdb.connect(settings.warehouse, read_only=True) as con:
        return sorted_frame(f"SELECT * FROM {table}", con)


def assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame, table: str) -> None:
    """Equal row for row; doubles may differ in the last bit (Java's and C's `ln` round differently)."""
    if got.empty or expected.empty:  # an empty Spark table has no files to read its columns from
        assert got.empty and expected.empty, table
        return
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-13, obj=table)


def test_two_adjacent_spark_runs_publish_what_one_duckdb_run_publishes_row_for_row(small_built, spark_halves):
    settings, report, _ = spark_halves
    assert not report.failures
    for table, _, _ in published_tables():
        published = [sorted_frame(published_sql(lake, table)) for lake in (settings.lake, small_built.lake)]
        assert_same_rows(*published, table)
    assert published_contents(settings.lake)["bridge_post_coin"][0] > 10_000  # the comparison is over real data


def test_published_files_have_the_same_layout_as_duckdb(small_built, spark_halves):
    settings, _, _ = spark_halves
    assert published_hashes(settings.lake).keys() == published_hashes(small_built.lake).keys()


def test_warehouse_tables_equal_duckdb_including_quarantine_and_stats(small_built, spark_halves):
    settings, _, _ = spark_halves
    for table in DATA_TABLES:
        assert_same_rows(sorted_frame(spark_table_sql(settings, table)), duckdb_table_frame(small_built, table), table)


def test_status_and_sql_read_what_spark_published(spark_halves):
    from cryptopulse import status

    settings, _, _ = spark_halves
    lake = Lake(settings.lake)
    tables = dict(status.collect(lake).tables)
    assert tables["fct_post"] == spark_table_hashes(settings)["fct_post"][0] > 0
    assert {"dim_coin", "fct_coin_hourly", "quality_results"} <= tables.keys()
    columns, rows = status.query(lake, "SELECT count(*) AS n FROM dim_coin")
    assert columns == ["n"] and rows == [(tables["dim_coin"],)]
    with pytest.raises(status.QueryRefused, match=r"^query failed: .*no_such_table"):
        status.query(lake, "SELECT * FROM no_such_table")


def test_rerunning_a_day_changes_nothing(spark_halves):
    settings, _, whole = spark_halves  # the last day, run again: its partitions are replaced, every other day kept
    tables, published = spark_table_hashes(settings), published_hashes(settings.lake)
    last = Interval(whole.end - dt.timedelta(days=1), whole.end)
    assert run(settings, last).interval == last
    assert spark_table_hashes(settings) == tables
    assert published_hashes(settings.lake) == published


def test_a_failed_gate_leaves_the_spark_warehouse_untouched(spark_halves, tmp_path):
    built, report, _ = spark_halves
    last = report.interval
    for folder in (Path(built.lake), Path(spark_warehouse(built.warehouse))):  # a private copy of the 21 days built
        shutil.copytree(folder, tmp_path / folder.name)
    settings = spark_settings(tmp_path)
    before = spark_table_hashes(settings)
    day = last.start
    moment = dt.datetime.combine(day, dt.time(5, 30), dt.UTC)
    staged = Path(settings.lake) / f"staged/coin_hourly/date={day}/part-0.csv"
    row = f"ethereum,{moment:%Y-%m-%d %H:%M:%S},{int(moment.timestamp() * 1000)},-5.0,1.0,1.0,test,x,{day}\n"
    staged.write_text(staged.read_text() + row)
    with pytest.raises(GateFailed) as failed:
        build_step(settings, Interval(day, day + dt.timedelta(days=1)))
    assert "fct_coin_hourly.range(price_usd in [0, inf])" in [f.label for f in failed.value.failures]
    assert spark_table_hashes(settings) == before and before["fct_post"][0] > 10_000
    assert not list((Path(spark_warehouse(settings.warehouse)) / "_pending").glob("*/*"))
