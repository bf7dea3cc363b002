"""What every warehouse engine offers the code that drives it (builds, gates, publishing, analysis).

The one module that both `cryptopulse.models` and `cryptopulse.engines` may import: it imports nothing of the
project at run time (the types it names are imported for type checkers only).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cryptopulse.interval import Interval
    from cryptopulse.lake import Lake


class EngineError(Exception):
    """The warehouse cannot be opened or used (bad path, locked file, unknown engine, a refused query)."""


class Engine(Protocol):
    """A warehouse engine: runs SQL in its dialect, exposes the staged zone, replaces and appends rows."""

    dialect: str
    location: str

    def execute(self, sql: str) -> None: ...
    def fetchall(self, sql: str) -> list[tuple]: ...
    def query(self, sql: str) -> tuple[list[str], list[tuple]]: ...
    def table_exists(self, name: str) -> bool: ...
    def table_names(self) -> list[str]: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None: ...

    def replace_rows(self, table: str, select: str, partition: str | None, interval: Interval | None) -> int | None:
        """Replace the rows of `table` whose `partition` lies in `interval` (every row when None) by those of `select`;
        the table is created with `select`'s columns on first use. Returns the rows written when the write counted
        them (None: the caller counts)."""
        ...

    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None:
        """Append `rows` to the log table `table`, created on first use with `columns` (DuckDB types)."""
        ...

    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None: ...
    def close(self) -> None: ...
