"""The server path: lake on S3 (moto) + warehouse on PostgreSQL gives the embedded run's tables, reruns change
nothing, a failure mid-load keeps the previous data, and the reader role sees only the published schema."""

from __future__ import annotations

import csv
import json
import shutil

import psycopg
import pytest
from typer.testing import CliRunner

from conftest import DATA_TABLES, settings_for
from cryptopulse.cli import app
from cryptopulse.config import load_settings
from cryptopulse.engines import postgres as pg_engine
from cryptopulse.engines.postgres import PostgresEngine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.publish import MANIFEST, published_tables
from cryptopulse.pipeline import run, stage_step
from cryptopulse.read import open_snapshot
from pgtables import duckdb_rows, postgres_hashes, postgres_rows


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture
def on_postgres(small, pg_url):
    """The small synthetic lake (a local folder) with its warehouse on PostgreSQL."""
    return load_settings(lake=small.lake, warehouse=pg_url)


@pytest.fixture(scope="module")
def pg_built(small_raw, postgres_server, tmp_path_factory):
    """The small synthetic lake run whole on PostgreSQL once for the module, the `analyst` reader role granted
    before the first build (so the grant must cover tables created later). Tests that change it leave it equal."""
    root = tmp_path_factory.mktemp("pg-built")
    shutil.copytree(small_raw, root / "lake")
    settings = load_settings(lake=str(root / "lake"), warehouse=postgres_server.create_database())
    result = CliRunner().invoke(app, ["grant-reader", "analyst", "--warehouse", settings.warehouse])
    assert result.exit_code == 0, result.output
    return settings, run(settings).interval


def published_rows(lake: Lake) -> dict[str, tuple[list[str], list[str]]]:
    """Column names and sorted rows of every published table, read through the manifest as every reader reads it."""
    with open_snapshot(lake) as snapshot:
        tables = {}
        for table, _, _ in published_tables():
            cur = snapshot.cursor().execute(f"SELECT * FROM {table}")
            tables[table] = [d[0] for d in cur.description], sorted(map(repr, cur.fetchall()))
        return tables


def test_pipeline_on_s3_and_postgres_equals_duckdb_on_a_local_folder(small_built, small_raw, pg_url, s3_env, cli):
    small = small_built  # the embedded default: DuckDB file + local folder, run over the same raw zone
    bucket = s3_env.create_bucket()
    remote_lake = Lake(f"s3://{bucket}/lake")
    remote_lake.fs.put(f"{small_raw}/raw/", remote_lake.path("raw"), recursive=True)
    result = cli.invoke(app, ["run", "--json"], env={"CRYPTOPULSE_LAKE": remote_lake.url, "CRYPTOPULSE_WAREHOUSE": pg_url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "ok"

    for table in DATA_TABLES:
        assert postgres_rows(pg_url, table) == duckdb_rows(small.warehouse, table), table
    assert len(duckdb_rows(small.warehouse, "fct_post")[1]) > 10_000  # the comparison is over real data

    local_lake = Lake(small.lake)
    remote, local = published_rows(remote_lake), published_rows(local_lake)
    for table, _, _ in published_tables():
        assert remote[table] == local[table], table
    manifest = json.loads(remote_lake.read_bytes(MANIFEST))
    assert manifest["tables"]["fct_post"]["rows"] == len(duckdb_rows(small.warehouse, "fct_post")[1])
    assert not remote_lake.fs.glob(remote_lake.path("published/_scratch/*"))
    assert remote_lake.glob("staged/posts/date=*/part-0.parquet") == local_lake.glob("staged/posts/date=*/part-0.parquet")


def test_reruns_and_adjacent_intervals_on_postgres_change_nothing(pg_built, postgres_server, tmp_path, small_raw):
    built, whole = pg_built
    tables = postgres_hashes(built.warehouse)
    assert tables["fct_post"][0] > 10_000

    day = whole.start + (whole.end - whole.start) / 3
    run(built, Interval.covering(day, day))  # a day inside the built range, run again
    assert postgres_hashes(built.warehouse) == tables

    split = load_settings(lake=settings_for(tmp_path / "split").lake, warehouse=postgres_server.create_database())
    shutil.copytree(small_raw / "raw", tmp_path / "split" / "lake" / "raw")
    middle = whole.start + (whole.end - whole.start) / 2
    run(split, Interval(whole.start, middle))
    run(split, Interval(middle, whole.end))
    assert postgres_hashes(split.warehouse) == tables


def staged_rows(settings, table: str) -> list[str]:
    """Reload the staging tables from the lake on `settings.warehouse`; the sorted rows of `staging.<table>`."""
    engine = PostgresEngine(settings)
    try:
        engine.attach_staged(Lake(settings.lake), None)
    finally:
        engine.close()
    return postgres_rows(settings.warehouse, f"staging.{table}")[1]


def test_staged_csv_files_load_whole_without_a_final_line_break_or_in_another_column_order(small_built, postgres_server, tmp_path):
    """A table's files stream through one COPY: a file's last row must not run into the next file's first, and a
    file whose header orders the columns otherwise gets a COPY of its own."""
    untouched = load_settings(lake=small_built.lake, warehouse=postgres_server.create_database())
    expected = staged_rows(untouched, "stg_coin_hourly")
    assert len(expected) > 1_000

    shutil.copytree(small_built.lake, tmp_path / "lake")
    edited = load_settings(lake=str(tmp_path / "lake"), warehouse=postgres_server.create_database())
    first, _, third, *_ = sorted((tmp_path / "lake" / "staged" / "coin_hourly").glob("date=*/part-0.csv"))
    first.write_bytes(first.read_bytes().rstrip(b"\n"))  # the second file's rows follow in the same COPY
    with third.open(newline="") as f:
        rows = list(csv.reader(f))
    with third.open("w", newline="") as f:
        csv.writer(f).writerows([list(reversed(row)) for row in rows])
    assert staged_rows(edited, "stg_coin_hourly") == expected


class InjectedFailure(Exception):
    """A crash planted in the middle of a load."""


def test_a_failure_in_the_middle_of_a_postgres_load_leaves_the_previous_data(on_postgres, monkeypatch):
    whole = stage_step(on_postgres, None)[1]
    first_half = Interval(whole.start, whole.start + (whole.end - whole.start) / 2)
    run(on_postgres, first_half)
    before = postgres_hashes(on_postgres.warehouse)

    # 1. the COPY of staged posts dies after a few files: nothing in the warehouse has changed yet
    real_read, files = pg_engine.staged_csv, []

    def read_then_die(stream, name, columns):
        if name.startswith("staged/posts/") and name.endswith("/part-0.parquet"):
            files.append(name)
            if len(files) == 6:
                raise InjectedFailure("connection lost during COPY")
        return real_read(stream, name, columns)

    monkeypatch.setattr(pg_engine, "staged_csv", read_then_die)
    with pytest.raises(InjectedFailure):
        run(on_postgres, whole)
    assert len(files) == 6
    assert postgres_hashes(on_postgres.warehouse) == before
    monkeypatch.setattr(pg_engine, "staged_csv", real_read)

    # 2. the build dies after deleting fct_post's partitions and before inserting them again
    real_execute = PostgresEngine.execute

    def die_before_inserting_posts(self, statement):
        if statement.startswith("INSERT INTO published.fct_post "):
            raise InjectedFailure("server crashed mid-build")
        return real_execute(self, statement)

    monkeypatch.setattr(PostgresEngine, "execute", die_before_inserting_posts)
    with pytest.raises(InjectedFailure):
        run(on_postgres, whole)
    assert postgres_hashes(on_postgres.warehouse) == before
    monkeypatch.setattr(PostgresEngine, "execute", real_execute)

    # 3. the rerun completes and covers the whole interval
    report = run(on_postgres, whole)
    assert report.status == "ok"
    after = postgres_hashes(on_postgres.warehouse)
    assert after["dim_time"][0] == 24 * len(whole.days())
    assert after["fct_post"][0] > before["fct_post"][0]


def test_reader_role_reads_the_published_schema_and_nothing_else(pg_built, cli):
    built, _ = pg_built  # granted before its first build: the tables created later are covered too
    reader = built.warehouse.replace("postgres@", "analyst@")
    with psycopg.connect(reader, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM fct_post").fetchone()[0] > 10_000  # before any later grant
    assert cli.invoke(app, ["grant-reader", "analyst", "--warehouse", built.warehouse]).exit_code == 0  # idempotent
    with psycopg.connect(reader, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM fct_post").fetchone()[0] > 10_000  # search_path = published
        assert con.execute("SELECT count(*) FROM published.dim_coin").fetchone()[0] > 0
        forbidden = [
            "SELECT * FROM internal.quarantine",
            "SELECT * FROM internal.pipeline_runs",
            "SELECT * FROM staging.stg_posts",
            "DELETE FROM published.fct_post",
            "INSERT INTO published.dim_coin (coin_id) VALUES ('x')",
            "CREATE TABLE published.mine (a int)",
            "DROP TABLE published.fct_post",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)


def test_grant_reader_needs_a_postgres_warehouse(tiny, cli):
    result = cli.invoke(app, ["grant-reader", "analyst", "--warehouse", tiny.warehouse])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output


def test_sql_and_status_read_what_postgres_published(pg_built, cli):
    on_postgres, _ = pg_built
    args = ["--lake", on_postgres.lake]
    result = cli.invoke(app, ["sql", "SELECT count(*) AS n FROM dim_time", "--csv", *args])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == str(postgres_hashes(on_postgres.warehouse, ("dim_time",))["dim_time"][0])

    result = cli.invoke(app, ["sql", "DELETE FROM dim_time", *args])
    assert result.exit_code == 2
    assert "read-only" in result.output and "Traceback" not in result.output

    result = cli.invoke(app, ["status", *args])
    assert result.exit_code == 0, result.output
    assert "fct_post" in result.output and "pg_statistic" not in result.output


def test_a_bad_postgres_url_is_one_line(tiny, cli):
    result = cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2
    assert "cannot connect to the warehouse" in result.output
