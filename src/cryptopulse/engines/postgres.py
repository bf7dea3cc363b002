"""PostgreSQL engine (psycopg 3): the models run as sqlglot's translation; staged files stream in with COPY.

Three schemas: `published` holds the models (what readers see, `cryptopulse grant-reader`), `internal` the
quarantine, staging stats and logs, `staging` the staged zone, reloaded with COPY … FROM STDIN before each
build. A build replaces its day-partitions with DELETE + INSERT inside the caller's transaction, so a
failure anywhere leaves the previous rows. One writer at a time (a session advisory lock), like DuckDB's file lock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from psycopg import sql
from sqlglot import exp

from cryptopulse.config import Settings
from cryptopulse.engines.base import STAGED_COLUMNS, STAGED_DATASETS, EngineError, staged_files
from cryptopulse.engines.pgcopy import UnsupportedType, copy_batches, copy_csv_file, result_schema, stream_batches, write_parquet
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.models.build import partition_filter
from cryptopulse.models.dialects import column_ddl
from cryptopulse.models.registry import load_models
from cryptopulse.staging.common import QUARANTINE_FILE, STATS_FILE

PUBLISHED, INTERNAL, STAGING = "published", "internal", "staging"
SEARCH_PATH = f"{PUBLISHED},{INTERNAL},{STAGING}"
URL_PREFIXES = ("postgresql://", "postgres://")
WRITER_LOCK = 0x63727970746F  # pg_advisory_lock key held by the one writing session
COINS_FILE = "staged/coins/part-0.parquet"
PARQUET_BATCH_ROWS = 65_536
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgres_url(warehouse: str) -> bool:
    return warehouse.startswith(URL_PREFIXES)


def schema_of(table: str) -> str:
    """Where a table lives: models in `published`, staged relations and seeds in `staging`, the rest in `internal`."""
    if table in {m.name for m in load_models()}:
        return PUBLISHED
    if table in STAGED_COLUMNS or table.startswith("seed_"):
        return STAGING
    return INTERNAL


def grant_reader(settings: Settings, role: str) -> bool:
    """Create or update the read-only role `role` on the warehouse; True when it was created."""
    if not is_postgres_url(settings.warehouse):
        raise EngineError(f"grant-reader needs a PostgreSQL warehouse (CRYPTOPULSE_WAREHOUSE=postgresql://…), got {settings.warehouse}")
    if not ROLE_RE.match(role):
        raise EngineError(f"role name {role!r}: use lower-case letters, digits and _ (at most 63), starting with a letter or _")
    engine = PostgresEngine(settings)
    try:
        return engine.grant_reader(role)
    finally:
        engine.close()


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.location = _redacted(settings.warehouse)
        try:
            self.con = psycopg.connect(settings.warehouse, autocommit=True, options=f"-c search_path={SEARCH_PATH} -c TimeZone=UTC")
        except psycopg.Error as e:
            raise EngineError(f"cannot connect to the warehouse {self.location}: {_first_line(e)}") from None
        self.read_only = read_only
        try:
            _require_c_collation(self.con, self.location)
        except EngineError:
            self.con.close()
            raise
        if read_only:
            self.con.execute("SET default_transaction_read_only = on")
        else:
            self.con.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
            for schema in (PUBLISHED, INTERNAL, STAGING):
                self.con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))

    # -- SQL -------------------------------------------------------------------------------------
    def execute(self, statement: str) -> None:
        self._run(statement)

    def fetchall(self, statement: str) -> list[tuple]:
        return self._run(statement).fetchall()

    def query(self, statement: str) -> tuple[list[str], list[tuple]]:
        cur = self._run(statement)
        columns = [d.name for d in cur.description] if cur.description else []
        return columns, cur.fetchall() if cur.description else []

    def _run(self, statement: str) -> psycopg.Cursor:
        """Run one statement; in read-only sessions (user queries) an error is a one-line EngineError."""
        if not self.read_only:
            return self.con.execute(statement.encode())
        try:
            return self.con.execute(statement.encode())
        except psycopg.Error as e:
            raise EngineError(f"query failed: {_first_line(e)}") from None

    def table_exists(self, name: str) -> bool:
        return self.con.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{schema_of(name)}.{name}"]).fetchone()[0]

    def table_names(self) -> list[str]:
        return [r[0] for r in self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_name")]

    def begin(self) -> None:
        self.con.execute("BEGIN")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()  # ends any open transaction (rolled back) and releases the writer lock

    # -- tables ----------------------------------------------------------------------------------
    def replace_rows(self, table: str, select: str, partition: str | None, interval: Interval | None) -> None:
        """Replace the rows of `table` in the interval's partitions (all rows when None) by those of `select`."""
        target = f"{schema_of(table)}.{table}"
        if not self.table_exists(table):
            self.execute(f"CREATE TABLE {target} AS SELECT * FROM ({select}) AS m WHERE 1 = 0")
        self.execute(f"DELETE FROM {target} WHERE {partition_filter(partition, interval) if interval else '1 = 1'}")
        self.execute(f"INSERT INTO {target} {select}")
        self.execute(f"ANALYZE {target}")  # fresh statistics, or the planner nests loops over the new rows (gates: minutes)

    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None:
        """Append log rows to `internal.<table>` (created from the DuckDB column list on first use)."""
        target = sql.Identifier(INTERNAL, table)
        self.con.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(target, sql.SQL(column_ddl(columns, "postgres"))))
        with self.con.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
            for row in rows:
                copy.write_row(row)

    def grant_reader(self, role: str) -> bool:
        """Let `role` (created with LOGIN when missing) read the published schema, now and later; nothing else.

        Returns True when the role was created. Staging and internal tables stay out of reach.
        """
        name = sql.Identifier(role)
        self.begin()
        created = not self.con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if created:
            self.con.execute(sql.SQL("CREATE ROLE {} LOGIN").format(name))
        schemas = sql.SQL(", ").join(sql.Identifier(s) for s in (INTERNAL, STAGING))
        for statement in (
            "GRANT USAGE ON SCHEMA {published} TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {published} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {published} GRANT SELECT ON TABLES TO {role}",
            "REVOKE ALL ON SCHEMA {others} FROM PUBLIC",
            "ALTER ROLE {role} SET search_path = {published}",
        ):
            self.con.execute(sql.SQL(statement).format(published=sql.Identifier(PUBLISHED), role=name, others=schemas))
        self.commit()
        return created

    # -- lake ------------------------------------------------------------------------------------
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None:
        """Reload the `staging` tables from the staged zone for `days` (None: all) and the seeds, with COPY."""
        self._reset_staging("stg_coins")
        if lake.exists(COINS_FILE):
            self._copy_parquet(lake, "stg_coins", [COINS_FILE])
        for table, (dataset, name) in STAGED_DATASETS.items():
            self._reset_staging(table)
            files = staged_files(lake, dataset, days, name)
            if name.endswith(".csv"):
                for f in files:
                    with lake.fs.open(lake.path(f), "rb") as stream:
                        copy_csv_file(self.con, sql.Identifier(STAGING, table), stream)
            else:
                self._copy_parquet(lake, table, files)
        self._reset_staging("stg_quarantine")
        quarantine = [f for dataset, _ in STAGED_DATASETS.values() for f in staged_files(lake, dataset, days, QUARANTINE_FILE)]
        self._copy_parquet(lake, "stg_quarantine", quarantine)
        self._reset_staging("stg_stats")
        stats = [f for dataset, _ in STAGED_DATASETS.values() for f in staged_files(lake, dataset, days, STATS_FILE)]
        self._copy_stats(lake, stats)
        self._load_seeds()
        self.con.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(self._staging_tables())))

    def _staging_tables(self) -> list[sql.Identifier]:
        rows = self.con.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [STAGING]).fetchall()
        return [sql.Identifier(STAGING, name) for (name,) in rows]

    def _reset_staging(self, table: str, columns: str | None = None) -> None:
        target = sql.Identifier(STAGING, table)
        ddl = sql.SQL(column_ddl(columns or STAGED_COLUMNS[table], "postgres"))
        self.con.execute(sql.SQL("CREATE UNLOGGED TABLE IF NOT EXISTS {} ({})").format(target, ddl))
        self.con.execute(sql.SQL("TRUNCATE {}").format(target))

    def _copy_parquet(self, lake: Lake, table: str, files: list[str]) -> None:
        wanted = [c.split()[0] for c in STAGED_COLUMNS[table].split(", ")]
        for f in files:
            with lake.fs.open(lake.path(f), "rb") as stream:
                parquet = pq.ParquetFile(stream)
                present = [c for c in wanted if c in parquet.schema_arrow.names]
                copy_batches(self.con, sql.Identifier(STAGING, table), parquet.iter_batches(PARQUET_BATCH_ROWS, columns=present))

    def _copy_stats(self, lake: Lake, files: list[str]) -> None:
        contents = lake.fs.cat([lake.path(f) for f in files]) if files else {}
        records = [json.loads(data) for data in contents.values()]
        if records:
            copy_batches(self.con, sql.Identifier(STAGING, "stg_stats"), pa.Table.from_pylist(records).to_batches())

    def _load_seeds(self) -> None:
        seeds = resources.files("cryptopulse.models").joinpath("seeds")
        for seed in sorted(seeds.iterdir()):
            if seed.name.endswith(".csv"):
                table = "seed_" + seed.name.removesuffix(".csv")
                with seed.open("rb") as stream:
                    header = stream.readline().decode().strip()
                    self._reset_staging(table, ", ".join(f"{c} VARCHAR" for c in header.split(",")))
                with seed.open("rb") as stream:
                    copy_csv_file(self.con, sql.Identifier(STAGING, table), stream)

    def export_parquet(self, query: str, local_dir: str, partition_by: str | None) -> None:
        """Stream the rows of `query` into Parquet under `local_dir` (one file, or one per partition value)."""
        unordered, keys = _split_order(query)
        try:
            schema = result_schema(self.con, unordered)
        except UnsupportedType as e:
            raise EngineError(f"cannot publish ({e})") from None
        if any(isinstance(k.this, exp.Column) and k.this.name.upper() == "ALL" for k in keys):
            keys = [exp.Ordered(this=exp.column(name)) for name in schema.names]  # DuckDB's ORDER BY ALL
        if partition_by:
            keys = [exp.Ordered(this=exp.column(partition_by)), *keys]  # each partition's rows arrive together
        ordered = sqlglot.parse_one(unordered, read="postgres").order_by(*keys).sql(dialect="postgres")
        write_parquet(stream_batches(self.con, ordered, schema), schema, Path(local_dir), partition_by)


def _split_order(query: str) -> tuple[str, list[exp.Ordered]]:
    """`query` without its ORDER BY, and the ORDER BY's keys."""
    tree = sqlglot.parse_one(query, read="postgres")
    order = tree.args.get("order")
    keys = [e.copy() for e in order.expressions] if order else []
    tree.set("order", None)
    return tree.sql(dialect="postgres"), keys


def _require_c_collation(con: psycopg.Connection, location: str) -> None:
    """Text must sort by code point, as in DuckDB, or ties and string_agg orders would differ between engines."""
    collation = con.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()").fetchone()[0]
    if collation not in ("C", "POSIX", "C.UTF-8", "C.utf8"):
        raise EngineError(
            f"warehouse {location} uses collation {collation}; cryptopulse needs code-point order: create the database with "
            "`CREATE DATABASE … TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'`"
        )


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return url.split("@")[-1]
    host, port, db, user = info.get("host", ""), info.get("port", ""), info.get("dbname", ""), info.get("user", "")
    return f"postgresql://{user + '@' if user else ''}{host}{':' + str(port) if port else ''}/{db}"


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
