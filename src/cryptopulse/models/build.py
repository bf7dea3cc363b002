"""Build the warehouse: every model in dependency order, replacing the interval's partitions (delete + insert)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptopulse.engines import Engine
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
    select = render(model.sql, engine.dialect, scope)
    if not engine.table_exists(model.name):
        engine.execute(f"CREATE TABLE {model.name} AS SELECT * FROM ({select}) AS m WHERE 1 = 0")
    if model.incremental:
        engine.execute(f"DELETE FROM {model.name} WHERE {partition_filter(model.partition, scope)}")
    else:
        engine.execute(f"DELETE FROM {model.name}")
    engine.execute(f"INSERT INTO {model.name} {select}")
    where = partition_filter(model.partition, scope) if model.incremental else "1 = 1"
    return engine.fetchall(f"SELECT count(*) FROM {model.name} WHERE {where}")[0][0]


def load_system_tables(engine: Engine, interval: Interval) -> dict[str, int]:
    """Replace the interval's days of `quarantine` and `staging_stats` from the staged side files."""
    counts = {}
    for table, (view, columns) in SYSTEM_LOADS.items():
        if not engine.table_exists(table):
            engine.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM {view} WHERE 1 = 0")
        where = partition_filter("date", interval)
        engine.execute(f"DELETE FROM {table} WHERE {where}")
        engine.execute(f"INSERT INTO {table} SELECT {columns} FROM {view} WHERE {where}")
        counts[table] = engine.fetchall(f"SELECT count(*) FROM {table} WHERE {where}")[0][0]
    return counts


def partition_filter(column: str | None, interval: Interval) -> str:
    """Portable SQL selecting the partitions of `interval` (date-typed partition columns)."""
    if column is None:
        return "1 = 1"
    return f"{column} >= DATE '{interval.start}' AND {column} < DATE '{interval.end}'"
