"""One published version, opened read-only in DuckDB: a view per table over exactly the files of that version.

Every reader (`status`, `sql`, the dashboard, the read API) goes through here: it reads the commit point
(`published/_manifest.json`) once, and the views it makes name that version's files and no others, so a
publish that lands while the reader works never mixes two versions. The connection is sandboxed: no
file outside the published zone, no network, no configuration change after it is made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import duckdb

from cryptopulse.lake import Lake, LakeError
from cryptopulse.lake.manifest import read_manifest


class NoPublishedData(LakeError):
    """Nothing has been published in this lake yet."""


@dataclass(frozen=True)
class PublishedTable:
    """One table of a published version: its files (lake-relative) and row count."""

    name: str
    files: tuple[str, ...]
    rows: int
    partitioned_by: str | None
    columns: tuple[tuple[str, str], ...] = ()


@dataclass
class Snapshot:
    """A published version: its identity, tables, and a sandboxed DuckDB connection with one view per table."""

    version: str
    run_id: str
    published_at: str
    interval: tuple[str, str] | None
    tables: dict[str, PublishedTable]
    con: duckdb.DuckDBPyConnection
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one thread (DuckDB connections are not shared across threads)."""
        with self._lock:
            return self.con.cursor()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def current_version(lake: Lake) -> str | None:
    """The published version's id (cheap: one small file), or None when nothing is published."""
    manifest = read_manifest(lake)
    return None if manifest is None else str(manifest.get("version", manifest.get("run_id")))


def open_snapshot(lake: Lake, threads: int = 0) -> Snapshot:
    """Open the current published version; NoPublishedData when there is none."""
    manifest = read_manifest(lake)
    if manifest is None:
        raise NoPublishedData(f"nothing published yet in {lake.uri('published')} (run `cryptopulse run`)")
    tables = {
        name: PublishedTable(name, tuple(t.get("file_list", ())), int(t.get("rows", 0)), t.get("partitioned_by"),
                             tuple(tuple(c) for c in t.get("columns", ())))
        for name, t in manifest["tables"].items()
    }
    con = _sandboxed_connection(lake, threads)
    for table in tables.values():
        con.execute(_view_sql(lake, table))
    con.execute("SET lock_configuration = true")
    interval = manifest.get("last_interval")
    return Snapshot(
        version=str(manifest.get("version", manifest.get("run_id"))),
        run_id=str(manifest.get("run_id")),
        published_at=str(manifest.get("published_at")),
        interval=tuple(interval) if interval else None,
        tables=tables,
        con=con,
    )


def _sandboxed_connection(lake: Lake, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": threads} if threads else {})
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    if not lake.is_local:
        con.register_filesystem(lake.fs)
    root = lake.uri("published")
    con.execute(f"SET allowed_directories = [{_lit(root + '/')}]")
    con.execute("SET enable_external_access = false")
    return con


def _view_sql(lake: Lake, table: PublishedTable) -> str:
    if not table.files:
        columns = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in table.columns) or "NULL AS empty"
        return f"CREATE VIEW {table.name} AS SELECT {columns} WHERE false"
    files = "[" + ", ".join(_lit(lake.uri(f)) for f in table.files) + "]"
    hive = ", hive_partitioning = true" if table.partitioned_by else ""
    return f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet({files}{hive})"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
