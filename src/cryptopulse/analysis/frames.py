"""Read a query's rows from any engine into pandas or Arrow (straight from DuckDB, rows elsewhere)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from cryptopulse.engines import Engine


def read_frame(engine: Engine, sql: str) -> pd.DataFrame:
    con = _duckdb(engine)
    if con is not None:
        return con.execute(sql).df()
    columns, rows = engine.query(sql)
    return pd.DataFrame.from_records(rows, columns=columns)


def read_table(engine: Engine, sql: str) -> pa.Table:
    """The rows of `sql` as an Arrow table: from DuckDB without a copy per value (on a cursor of the connection, so
    committed tables only), from other engines through pandas."""
    con = _duckdb(engine)
    if con is not None:
        cursor = con.cursor()  # the relation API refuses a connection whose last result was not read to the end
        try:
            return cursor.sql(sql).to_arrow_table()
        finally:
            cursor.close()
    return pa.Table.from_pandas(read_frame(engine, sql), preserve_index=False)


def _duckdb(engine: Engine) -> object | None:
    con = getattr(engine, "con", None)
    return con if con is not None and hasattr(con, "execute") and engine.dialect == "duckdb" else None
