"""PostgreSQL engine (psycopg 3): the models run as sqlglot's translation; staged files stream in with COPY.

Three schemas: `published` holds the models (what readers see, `cryptopulse grant-reader`), `internal` the
quarantine, staging stats and logs, `staging` the staged zone, reloaded with COPY … FROM STDIN before each
build. A build replaces its day-partitions with DELETE + INSERT inside the caller's transaction, so a
failure anywhere leaves the previous rows. One writer at a time (a session advisory lock), like DuckDB's file lock.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path

import psycopg
import sqlglot
from psycopg import sql
from sqlglot import exp

from cryptopulse.config import Settings
from cryptopulse.engine_protocol import EngineError
from cryptopulse.engines.pgcopy import (
    Chunk,
    UnsupportedType,
    copy_runs,
    result_schema,
    staged_csv,
    stream_batches,
    write_parquet,
)
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.sqltext import column_ddl, column_names, replace_statements, split_order, values_sql
from cryptopulse.staging.zone import STAGED_COLUMNS, StagedRelation, seeds, staged_relations

PUBLISHED, INTERNAL, STAGING = "published", "internal", "staging"
SCHEMAS = (PUBLISHED, INTERNAL, STAGING)
# Tables the pipeline keeps for itself (quarantine, staging stats, logs): in `internal`, out of the readers' reach.
INTERNAL_TABLES = frozenset({"quarantine", "staging_stats", "quality_results", "pipeline_runs"})
URL_PREFIXES = ("postgresql://", "postgres://")
WRITER_LOCK = 0x63727970746F  # pg_advisory_lock key held by the one writing session
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgres_url(warehouse: str) -> bool:
    return warehouse.startswith(URL_PREFIXES)


def schema_of(table: str) -> str:
    """Where a table lives: staged relations and seeds in `staging`, the pipeline's own tables in `internal`, the
    models (and any other table) in `published`."""
    if table in STAGED_COLUMNS or table.startswith("seed_"):
        return STAGING
    return INTERNAL if table in INTERNAL_TABLES else PUBLISHED


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
            self.con = psycopg.connect(settings.warehouse, autocommit=True)
        except psycopg.Error as e:
            raise EngineError(f"cannot connect to the warehouse {self.location}: {_first_line(e)}") from None
        self.read_only = read_only
        try:
            _require_c_collation(self.con, self.location)
        except EngineError:
            self.con.close()
            raise
        for statement in session_sql() if read_only else session_sql() + writer_sql():
            self.con.execute(statement.encode())
        if read_only:
            self.con.execute("SET default_transaction_read_only = on")

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
        for statement in replace_sql(table, select, partition, interval):
            self.execute(statement)

    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None:
        """Append log rows to `internal.<table>` (created from the DuckDB column list on first use)."""
        self.execute(log_table_sql(table, columns))
        with self.con.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(INTERNAL, table))) as copy:
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
        """Reload the `staging` tables from the staged zone for `days` (None: all) and the seeds (`load_plan`); the
        files of a table stream in through one COPY (a round trip per file cost more than its rows at 500 days)."""
        for table, steps in groupby(load_plan(staged_relations(lake, days)), key=lambda s: s.table if isinstance(s, CopyIn) else None):
            if table is None:
                for statement in steps:
                    self.execute(statement)
            else:
                copy_runs(self.con, partial(copy_sql, table), _staged_chunks(lake, steps))

    def export_parquet(self, query: str, local_dir: str, partition_by: str | None) -> None:
        """Stream the rows of `query` into Parquet under `local_dir` (one file, or one per partition value)."""
        unordered, keys = split_order(query, "postgres")
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


@dataclass(frozen=True)
class CopyIn:
    """One staged file streamed into its staging table with COPY … FROM STDIN (CSV rows, in `columns`' order)."""

    table: str
    columns: tuple[str, ...]
    file: str

    def sql(self) -> str:
        return copy_sql(self.table, self.columns)

    def psql(self, lake_uri: str) -> str:
        """The psql command doing the same: `\\copy` sends this COPY and streams it the rows that
        `python3 -m cryptopulse.engines.pgcopy` prints (the conversion the engine does in-process)."""
        program = shlex.join(["python3", "-m", "cryptopulse.engines.pgcopy", self.table, lake_uri, self.file]).replace("'", "''")
        return "\\copy" + self.sql().removeprefix("COPY").replace("FROM STDIN", f"FROM PROGRAM '{program}'")


def copy_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {STAGING}.{table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"


def _staged_chunks(lake: Lake, steps: Iterator[CopyIn]) -> Iterator[Chunk]:
    """The CSV rows of each step's file, in order (a CSV file as it is, others converted from Arrow batches)."""
    for step in steps:
        with lake.fs.open(lake.path(step.file), "rb") as stream:
            yield from staged_csv(stream, step.file, step.columns)


def session_sql() -> list[str]:
    """The settings of every session: names resolve in published, internal, staging; timestamps are UTC."""
    return [f"SET search_path TO {', '.join(SCHEMAS)}", "SET TimeZone TO 'UTC'"]


def writer_sql() -> list[str]:
    """What the writing session does first: take the one-writer lock, create the schemas, turn JIT compilation off
    (the gates' one query spent 13 of its 20 s compiling at scale 1; the models and exports a second each)."""
    return [f"SELECT pg_advisory_lock({WRITER_LOCK})", *(f"CREATE SCHEMA IF NOT EXISTS {schema}" for schema in SCHEMAS), "SET jit = off"]


def load_plan(relations: list[StagedRelation], dialect: str = "postgres") -> list[str | CopyIn]:
    """Reloading the staging tables: each emptied (created on first use), then its files copied in; the seeds inserted.

    `dialect` "redshift" gives the same tables for `sql-render` (no UNLOGGED tables, no multi-table ANALYZE)."""
    steps: list[str | CopyIn] = []
    tables = [(r.name, r.columns) for r in relations] + [(n, ", ".join(f"{c} VARCHAR" for c in h)) for n, (h, _) in seeds().items()]
    unlogged = "UNLOGGED " if dialect == "postgres" else ""
    for table, columns in tables:
        steps += [f"CREATE {unlogged}TABLE IF NOT EXISTS {STAGING}.{table} ({column_ddl(columns, dialect)})", f"TRUNCATE {STAGING}.{table}"]
        steps += [CopyIn(r.name, tuple(column_names(r.columns)), f) for r in relations if r.name == table for f in r.files]
    for name, (header, rows) in seeds().items():
        steps.append(f"INSERT INTO {STAGING}.{name} ({', '.join(header)}) VALUES {values_sql(rows)}")
    if dialect == "postgres":  # fresh statistics for the planner
        steps.append("ANALYZE " + ", ".join(f"{STAGING}.{table}" for table, _ in tables))
    return steps


def replace_sql(table: str, select: str, partition: str | None, interval: Interval | None) -> list[str]:
    """Delete + insert into `table` in its schema, then fresh statistics (or the planner nests loops over the new
    rows, and the gates take minutes)."""
    target = f"{schema_of(table)}.{table}"
    return [*replace_statements(target, select, partition, interval), f"ANALYZE {target}"]


def log_table_sql(table: str, columns: str, dialect: str = "postgres") -> str:
    return f"CREATE TABLE IF NOT EXISTS {INTERNAL}.{table} ({column_ddl(columns, dialect)})"


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
