"""`cryptopulse status` and `cryptopulse sql`: read the published version only, through the sandboxed snapshot.

Neither touches the writer's warehouse: a reader never blocks a run. `sql` runs only queries (SELECT-like
statements) — the snapshot's sandbox keeps files outside the published zone out of reach, and refusing every
other statement type keeps COPY from writing inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from cryptopulse.lake import Lake, LakeError
from cryptopulse.lake.runlog import recent_runs
from cryptopulse.read import NoPublishedData, Snapshot, open_snapshot


class QueryRefused(ValueError):
    """A `sql` statement that is not a read-only query over the published tables, or a query that failed."""


@dataclass
class Status:
    """What is published (version, tables and rows) and what the last runs did."""

    version: str | None = None
    run_id: str | None = None
    published_at: str | None = None
    interval: tuple[str, str] | None = None
    tables: list[tuple[str, int]] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)

    @property
    def last_checks(self) -> tuple[str, list[dict]] | None:
        """The newest run that ran checks, and its check results."""
        return next(((r["run_id"], r["checks"]) for r in self.runs if r.get("checks")), None)


def collect(lake: Lake, runs: int = 5) -> Status:
    """The published version (nothing when none is published) and the `runs` newest runs of the run log."""
    status = Status(runs=recent_runs(lake, runs))
    try:
        snapshot = published_snapshot(lake)
    except NoPublishedData:
        return status
    with snapshot:
        status.version, status.run_id, status.published_at = snapshot.version, snapshot.run_id, snapshot.published_at
        status.interval = snapshot.interval
        status.tables = [(name, table.rows) for name, table in snapshot.tables.items()]
    return status


def published_snapshot(lake: Lake) -> Snapshot:
    """The published version, or one line saying why it cannot be read (no lake, a file listed but missing)."""
    lake.require()
    try:
        return open_snapshot(lake)
    except duckdb.Error as e:
        raise LakeError(f"cannot read the published version in {lake.uri('published')}: {_first_line(e)}") from None


# Statement types that only read. EXPLAIN is allowed when what it explains is one of these.
QUERY_TYPES = {duckdb.StatementType.SELECT}
EXPLAIN_PREFIX = re.compile(r"^\s*explain\s+(analyze\s+|\([^)]*\)\s*)?", re.IGNORECASE)


def check_query(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one or more queries (SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW, EXPLAIN of those)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryRefused(f"query failed: {_first_line(e)}") from None
    if not statements:
        raise QueryRefused("no query given: pass a SELECT statement, e.g. cryptopulse sql 'SELECT count(*) FROM fct_post'")
    for statement in statements:
        if _kind(con, statement) not in QUERY_TYPES:
            raise QueryRefused(
                f"refused: `sql` is read-only and runs queries only (SELECT, WITH, EXPLAIN SELECT …), not {statement.type.name}")


def _kind(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> duckdb.StatementType:
    """A statement's type; for EXPLAIN, the type of the one statement it explains (EXPLAIN ANALYZE runs it)."""
    if statement.type != duckdb.StatementType.EXPLAIN:
        return statement.type
    try:
        inner = con.extract_statements(EXPLAIN_PREFIX.sub("", statement.query, count=1))
    except duckdb.Error:
        return statement.type
    return inner[0].type if len(inner) == 1 else statement.type


def query(lake: Lake, sql: str) -> tuple[list[str], list[tuple]]:
    """Run read-only query `sql` over the published version's tables: (column names, rows)."""
    with published_snapshot(lake) as snapshot:
        check_query(snapshot.con, sql)
        try:
            result = snapshot.con.execute(sql)
            return [d[0] for d in result.description], result.fetchall()
        except duckdb.Error as e:
            raise QueryRefused(f"query failed: {_first_line(e)}") from None


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading `'`; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
