"""SQL text every layer writes the same way: literals, path lists, partition filters, column DDL, ORDER BY split off."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cryptopulse.interval import Interval

if TYPE_CHECKING:
    from sqlglot import exp


def literal(value: object) -> str:
    """A portable SQL literal for a string, number, boolean, date, timestamp or None."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"
    if isinstance(value, dt.date):
        return f"DATE '{value}'"
    return "'" + str(value).replace("'", "''") + "'"


def values_sql(rows: list[tuple] | tuple[tuple, ...]) -> str:
    """Rows as the tuples of a VALUES list: `(1, 'a'), (2, 'b')`."""
    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


def sql_list(paths: list[str]) -> str:
    """A DuckDB list literal of quoted paths."""
    return "[" + ", ".join(literal(p) for p in paths) + "]"


def partition_filter(column: str | None, interval: Interval) -> str:
    """Portable SQL selecting the partitions of `interval` (date-typed partition columns); every row when no column."""
    if column is None:
        return "1 = 1"
    return f"{column} >= DATE '{interval.start}' AND {column} < DATE '{interval.end}'"


def replace_statements(target: str, select: str, partition: str | None, interval: Interval | None) -> list[str]:
    """Create `target` from `select`'s columns on first use, then replace the interval's partitions (every row when
    None) by `select`'s rows: the delete + insert that is idempotent on every engine that can delete rows."""
    where = partition_filter(partition, interval) if interval else "1 = 1"
    return [
        f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM ({select}) AS m WHERE 1 = 0",
        f"DELETE FROM {target} WHERE {where}",
        f"INSERT INTO {target} {select}",
    ]


def column_names(columns: str) -> list[str]:
    """The names of a column list `a VARCHAR, b DOUBLE`."""
    return [c.split()[0] for c in columns.split(", ")]


def column_ddl(columns: str, dialect: str) -> str:
    """A DuckDB column list (`a VARCHAR, b DOUBLE`) with `dialect`'s types (`b DOUBLE PRECISION` in PostgreSQL)."""
    import sqlglot  # imported when used: a DuckDB run never needs it

    create = sqlglot.transpile(f"CREATE TABLE t ({columns})", read="duckdb", write=dialect)[0]
    return create[create.index("(") + 1 : create.rindex(")")]


def split_order(query: str, dialect: str) -> tuple[str, list[exp.Ordered]]:
    """`query` without its ORDER BY (in `dialect`), and the ORDER BY's keys."""
    import sqlglot

    tree = sqlglot.parse_one(query, read=dialect)
    order = tree.args.get("order")
    keys = [e.copy() for e in order.expressions] if order else []
    tree.set("order", None)
    return tree.sql(dialect=dialect), keys
