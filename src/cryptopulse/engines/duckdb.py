"""DuckDB engine: the embedded default; models run in one file, staged files are read in place from the lake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb

from cryptopulse.config import Settings
from cryptopulse.engine_protocol import EngineError
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.sqltext import column_names, replace_statements, sql_list, values_sql
from cryptopulse.staging.zone import STAGED_COLUMNS, StagedRelation, seeds, staged_relations

BEGIN = "BEGIN TRANSACTION"


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.location = settings.warehouse
        if settings.warehouse != ":memory:":
            path = Path(settings.warehouse)
            if read_only and not path.exists():
                raise EngineError(f"warehouse not found at {path} (run `cryptopulse run` first)")
            path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {}
        if settings.threads:
            config["threads"] = settings.threads
        if settings.memory_limit:
            config["memory_limit"] = settings.memory_limit
        if settings.temp_directory:
            config["temp_directory"] = settings.temp_directory
        try:
            self.con = duckdb.connect(settings.warehouse, read_only=read_only, config=config)
        except duckdb.Error as e:
            raise EngineError(f"cannot open warehouse {settings.warehouse}: {str(e).splitlines()[0]}") from e
        self.con.execute("SET enable_progress_bar = false")

    # -- SQL -------------------------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def fetchall(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A query's columns and rows; DuckDB's error, first line, as an EngineError."""
        try:
            cur = self.con.execute(sql)
        except duckdb.Error as e:
            raise EngineError(f"query failed: {str(e).strip().splitlines()[0]}") from None
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()

    def table_exists(self, name: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_type = 'BASE TABLE'", [name]
        ).fetchone()
        return bool(found and found[0])

    def table_names(self) -> list[str]:
        return [r[0] for r in self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY table_name")]

    def begin(self) -> None:
        self.con.execute(BEGIN)

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()

    # -- tables ----------------------------------------------------------------------------------
    def replace_rows(self, table: str, select: str, partition: str | None, interval: Interval | None) -> None:
        for statement in replace_statements(table, select, partition, interval):
            self.con.execute(statement)

    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None:
        for statement in append_sql(table, columns, rows):
            self.con.execute(statement)

    # -- lake ------------------------------------------------------------------------------------
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None:
        """Expose the staged zone for `days` (None: all) as temp views `stg_*`, plus the seed tables."""
        if not lake.is_local:
            self.con.register_filesystem(lake.fs)
        for statement in attach_sql(staged_relations(lake, days), lake.uri):
            self.con.execute(statement)

    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None:
        """Write the rows of `sql` as Parquet under `local_dir` (one file, or one per partition value)."""
        options = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"
        if partition_by:
            options += f", PARTITION_BY ({partition_by}), FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE true"
            self.con.execute(f"COPY ({sql}) TO '{local_dir}' ({options})")
        else:
            Path(local_dir).mkdir(parents=True, exist_ok=True)
            self.con.execute(f"COPY ({sql}) TO '{local_dir}/part-0.parquet' ({options})")


def attach_sql(relations: list[StagedRelation], uri: Callable[[str], str]) -> list[str]:
    """The statements exposing staged relations (files named by `uri`) as temp views, and the seeds as temp tables."""
    views = [staged_view_sql(r.name, [uri(f) for f in r.files], r.fmt) for r in relations]
    return views + [
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM (VALUES {values_sql(rows)}) AS t({', '.join(header)})"
        for name, (header, rows) in seeds().items()
    ]


def append_sql(table: str, columns: str, rows: list[tuple]) -> list[str]:
    """The statements appending `rows` to the log table `table`, created on first use with `columns`."""
    create = f"CREATE TABLE IF NOT EXISTS {table} ({columns})"
    return [create, f"INSERT INTO {table} VALUES {values_sql(rows)}"] if rows else [create]


def staged_view_sql(name: str, uris: list[str], fmt: str) -> str:
    """The statement exposing staged files (`csv`, `json` or `parquet`) as temp view `name` with STAGED_COLUMNS' types."""
    columns = STAGED_COLUMNS[name]
    if not uris:
        return f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM (SELECT {_nulls(columns)}) WHERE false"
    names = ", ".join(column_names(columns))
    if fmt == "csv":
        spec = "{" + ", ".join(f"'{c.split()[0]}': '{c.split()[1]}'" for c in columns.split(", ")) + "}"
        source = (
            f"read_csv({sql_list(uris)}, header = true, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {spec})"
        )
    elif fmt == "json":
        spec = "{" + ", ".join(f"{c.split()[0]}: '{c.split()[1]}'" for c in columns.split(", ")) + "}"
        source = f"read_json({sql_list(uris)}, columns = {spec}, format = 'auto')"
    else:
        source = f"read_parquet({sql_list(uris)}, union_by_name = true)"
    return f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {names} FROM {source}"


def _nulls(columns: str) -> str:
    return ", ".join(f"NULL::{c.split()[1]} AS {c.split()[0]}" for c in columns.split(", "))
