"""Build the warehouse: every model in dependency order, each replacing the interval's partitions on the engine."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptopulse.engine_protocol import Engine
from cryptopulse.interval import Interval
from cryptopulse.models.registry import Model, load_models, render
from cryptopulse.sqltext import partition_filter

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


@dataclass(frozen=True)
class Replacement:
    """One table's part of a build: the rows of `select` replace those whose `partition` lies in `interval` (None: all)."""

    table: str
    select: str
    partition: str | None
    interval: Interval | None

    def apply(self, engine: Engine) -> int:
        """Replace the rows on `engine`; returns the rows the table now holds in the replaced partitions."""
        written = engine.replace_rows(self.table, self.select, self.partition, self.interval)
        if written is not None:  # counted while writing (Spark: a count would be a job of its own)
            return written
        where = partition_filter(self.partition, self.interval) if self.interval else "1 = 1"
        return engine.fetchall(f"SELECT count(*) FROM {self.table} WHERE {where}")[0][0]


def model_replacement(model: Model, interval: Interval, dialect: str) -> Replacement:
    """What building `model` for a run over `interval` replaces, with its SQL rendered for `dialect`."""
    scope = model.model_interval(interval)
    select = render(model.sql, dialect, scope)
    return Replacement(model.name, select, model.partition, scope) if model.incremental else Replacement(model.name, select, None, None)


def system_replacements(interval: Interval) -> list[Replacement]:
    """The interval's days of `quarantine` and `staging_stats`, from the staged side files."""
    where = partition_filter("date", interval)
    return [
        Replacement(table, f"SELECT {columns} FROM {view} WHERE {where}", "date", interval)
        for table, (view, columns) in SYSTEM_LOADS.items()
    ]


def build_models(engine: Engine, interval: Interval, models: tuple[Model, ...] | None = None) -> list[ModelResult]:
    """Run each model for `interval` and return rows written and time taken per model."""
    results = []
    for model in models or load_models():
        started = time.perf_counter()
        rows = model_replacement(model, interval, engine.dialect).apply(engine)
        results.append(ModelResult(model.name, rows, time.perf_counter() - started))
    return results


def load_system_tables(engine: Engine, interval: Interval) -> dict[str, int]:
    """Replace the interval's days of `quarantine` and `staging_stats` from the staged side files."""
    return {r.table: r.apply(engine) for r in system_replacements(interval)}
