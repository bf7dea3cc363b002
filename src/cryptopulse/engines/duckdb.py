"""DuckDB engine: the embedded default; models run in one file, staged files are read in place from the lake."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import duckdb

from cryptopulse.config import Settings
from cryptopulse.engines.base import STAGED_COLUMNS, STAGED_DATASETS, EngineError, staged_files
from cryptopulse.lake import Lake
from cryptopulse.staging.common import QUARANTINE_FILE, STATS_FILE, sql_list


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
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()

    # -- lake ------------------------------------------------------------------------------------
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None:
        """Expose the staged zone for `days` (None: all) as temp views `stg_*`, plus the seed tables."""
        if not lake.is_local:
            self.con.register_filesystem(lake.fs)
        coins = "staged/coins/part-0.parquet"
        self._view("stg_coins", [lake.uri(coins)] if lake.exists(coins) else [], "parquet")
        for view, (dataset, name) in STAGED_DATASETS.items():
            files = staged_files(lake, dataset, days, name)
            self._view(view, [lake.uri(f) for f in files], "csv" if name.endswith(".csv") else "parquet")
        quarantine = [lake.uri(f) for ds, _ in STAGED_DATASETS.values() for f in staged_files(lake, ds, days, QUARANTINE_FILE)]
        self._view("stg_quarantine", quarantine, "parquet")
        stats = [lake.uri(f) for ds, _ in STAGED_DATASETS.values() for f in staged_files(lake, ds, days, STATS_FILE)]
        self._view("stg_stats", stats, "json")
        self._load_seeds()

    def _view(self, name: str, uris: list[str], fmt: str) -> None:
        self.con.execute(staged_view_sql(name, uris, fmt))

    def _load_seeds(self) -> None:
        seeds = resources.files("cryptopulse.models").joinpath("seeds")
        for seed in sorted(seeds.iterdir()):
            if seed.name.endswith(".csv"):
                with resources.as_file(seed) as path:
                    table = "seed_" + seed.name.removesuffix(".csv")
                    self.con.execute(
                        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv('{path}', header = true, all_varchar = true)"
                    )

    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None:
        """Write the rows of `sql` as Parquet under `local_dir` (one file, or one per partition value)."""
        options = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"
        if partition_by:
            options += f", PARTITION_BY ({partition_by}), FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE true"
            self.con.execute(f"COPY ({sql}) TO '{local_dir}' ({options})")
        else:
            Path(local_dir).mkdir(parents=True, exist_ok=True)
            self.con.execute(f"COPY ({sql}) TO '{local_dir}/part-0.parquet' ({options})")


def staged_view_sql(name: str, uris: list[str], fmt: str) -> str:
    """The statement exposing staged files (`csv`, `json` or `parquet`) as temp view `name` with STAGED_COLUMNS' types."""
    columns = STAGED_COLUMNS[name]
    if not uris:
        return f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM (SELECT {_nulls(columns)}) WHERE false"
    names = ", ".join(c.split()[0] for c in columns.split(", "))
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
