"""Build the warehouse: every model in dependency order, replacing the interval's partitions (delete + insert)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptopulse.engines import Engine
from cryptopulse.engines.base import WritesTables
from cryptopulse.interval import Interval
from cryptopulse.models.registry import Model, load_models, render

# Tables loaded straight from the staged zone's side files, replaced per day like the facts.
SYSTEM_LOADS = {
    "quarantine": ("stg_quarantine", "dataset, date, source, raw_file, reason, record"),
    "staging_stats": ("stg_stats", "dataset, date, received, staged, quarantined, duplicates"),
}


@dataclass(frozen=True)
class ModelResult:
    name: str
    rows_written: int
    seconds: float


def build_models(engine: Engine, interval: Interval, models: tuple[Model, ...] | None = None) -> list[ModelResult]:
    """Run each model for `interval` and return rows written and time taken per model."""
    results = []
    for model in models or load_models():
        started = time.perf_counter()
        rows = _materialize(engine, model, interval)
        results.append(ModelResult(model.name, rows, time.perf_counter() - started))
    return results


def _materialize(engine: Engine, model: Model, interval: Interval) -> int:
    scope = model.model_interval(interval)
    partition, replaced = (model.partition, scope) if model.incremental else (None, None)
    replace_rows(engine, model.name, render(model.sql, engine.dialect, scope), partition, replaced)
    where = partition_filter(partition, replaced) if replaced else "1 = 1"
    return engine.fetchall(f"SELECT count(*) FROM {model.name} WHERE {where}")[0][0]


def load_system_tables(engine: Engine, interval: Interval) -> dict[str, int]:
    """Replace the interval's days of `quarantine` and `staging_stats` from the staged side files."""
    counts = {}
    for table, (view, columns) in SYSTEM_LOADS.items():
        where = partition_filter("date", interval)
        replace_rows(engine, table, f"SELECT {columns} FROM {view} WHERE {where}", "date", interval)
        counts[table] = engine.fetchall(f"SELECT count(*) FROM {table} WHERE {where}")[0][0]
    return counts


def replace_rows(engine: Engine, table: str, select: str, partition: str | None, interval: Interval | None) -> None:
    """Replace the rows of `table` whose `partition` lies in `interval` (every row when None) by those of `select`.

    The table is created on first use. Engines that cannot delete rows (Spark on Parquet) do it their own way.
    """
    if isinstance(engine, WritesTables):
        engine.replace_rows(table, select, partition, interval)
        return
    if not engine.table_exists(table):
        engine.execute(f"CREATE TABLE {table} AS SELECT * FROM ({select}) AS m WHERE 1 = 0")
    engine.execute(f"DELETE FROM {table} WHERE {partition_filter(partition, interval) if interval else '1 = 1'}")
    engine.execute(f"INSERT INTO {table} {select}")


def partition_filter(column: str | None, interval: Interval) -> str:
    """Portable SQL selecting the partitions of `interval` (date-typed partition columns)."""
    if column is None:
        return "1 = 1"
    return f"{column} >= DATE '{interval.start}' AND {column} < DATE '{interval.end}'"
