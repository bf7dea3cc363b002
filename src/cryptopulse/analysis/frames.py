"""Read a query's rows from any engine into a pandas DataFrame (Arrow straight from DuckDB, rows elsewhere)."""

from __future__ import annotations

import pandas as pd

from cryptopulse.engines import Engine


def read_frame(engine: Engine, sql: str) -> pd.DataFrame:
    con = getattr(engine, "con", None)
    if con is not None and hasattr(con, "execute") and engine.dialect == "duckdb":
        return con.execute(sql).df()
    columns, rows = engine.query(sql)
    return pd.DataFrame.from_records(rows, columns=columns)
