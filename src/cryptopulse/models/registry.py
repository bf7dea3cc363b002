"""Load model files, order them by the tables they read, and render them for an engine's SQL dialect.

A model file is SQL in the DuckDB dialect, opened by a `/* … */` header in TOML that states the
table's grain, how it is materialised and the checks that gate it. Other dialects come from sqlglot.
"""

from __future__ import annotations

import functools
import graphlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from cryptopulse.interval import Interval
from cryptopulse.models.compiled import cached
from cryptopulse.staging.zone import MODEL_INPUTS, seeds

SOURCE_DIALECT = "duckdb"
HEADER_RE = re.compile(r"^\s*/\*(.*?)\*/", re.S)
# Relations the models read that the engine provides (staged zone and seeds), not models themselves.
STAGED_RELATIONS = MODEL_INPUTS
SEEDS = tuple(seeds())


@dataclass(frozen=True)
class Model:
    """One warehouse table: its SQL, its grain and the checks that must hold before publishing."""

    name: str
    sql: str
    grain: str
    materialized: str  # "table": rebuilt whole; "incremental": partitions of the interval replaced
    partition: str | None = None
    partition_unit: str = "day"  # "month": the interval is widened to whole months
    publish_partitioned: bool = False  # published as one file per day (facts) rather than one file
    unique_key: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    non_empty: bool = False
    relationships: tuple[dict[str, str], ...] = ()
    ranges: tuple[dict[str, object], ...] = ()
    freshness: dict[str, object] | None = None
    depends_on: tuple[str, ...] = field(default=())

    @property
    def incremental(self) -> bool:
        return self.materialized == "incremental"

    def model_interval(self, interval: Interval) -> Interval:
        """The interval whose partitions this model replaces for a run over `interval`."""
        return interval.widen_to_months() if self.partition_unit == "month" else interval


@functools.cache
def load_models() -> tuple[Model, ...]:
    """Every model, in an order where each comes after the models it reads."""
    files = sorted(p for p in resources.files("cryptopulse.models").joinpath("sql").iterdir() if p.name.endswith(".sql"))
    raw = {p.name.removesuffix(".sql"): p.read_text() for p in files}
    models = {name: _parse(name, text, set(raw)) for name, text in raw.items()}
    order = graphlib.TopologicalSorter({n: set(m.depends_on) for n, m in models.items()}).static_order()
    return tuple(models[n] for n in order)


def _parse(name: str, text: str, model_names: set[str]) -> Model:
    m = HEADER_RE.match(text)
    if not m:
        raise ValueError(f"model {name}: missing the /* TOML */ header")
    meta = tomllib.loads(m.group(1))
    body = text[m.end() :].strip()
    tables = set(cached("tables", SOURCE_DIALECT, body, lambda: _tables_read(body)))
    return Model(
        name=name,
        sql=body,
        grain=meta["grain"],
        materialized=meta["materialized"],
        partition=meta.get("partition"),
        partition_unit=meta.get("partition_unit", "day"),
        publish_partitioned=bool(meta.get("publish_partitioned", False)),
        unique_key=tuple(meta.get("unique_key", ())),
        not_null=tuple(meta.get("not_null", ())),
        non_empty=bool(meta.get("non_empty", False)),
        relationships=tuple(meta.get("relationships", ())),
        ranges=tuple(meta.get("ranges", ())),
        freshness=meta.get("freshness"),
        depends_on=tuple(sorted((tables & model_names) - {name})),
    )


def _tables_read(sql: str) -> list[str]:
    import sqlglot
    from sqlglot import exp

    return sorted({t.name for t in sqlglot.parse_one(sql, read=SOURCE_DIALECT).find_all(exp.Table)})


# Rendered (and cached) with these in place of the interval, then replaced by the run's bounds: a string literal
# reads the same in every dialect.
SENTINELS = {"interval_start": "__cryptopulse_interval_start__", "interval_end": "__cryptopulse_interval_end__"}


def render(sql: str, dialect: str, interval: Interval | None = None) -> str:
    """`sql` (DuckDB dialect) for `dialect`, with `:interval_start`/`:interval_end` bound to the interval."""
    if interval is None:
        return _render(sql, dialect, None)
    text = cached("render", dialect, sql, lambda: _render(sql, dialect, SENTINELS))
    for name, moment in (("interval_start", interval.start_ts), ("interval_end", interval.end_ts)):
        text = text.replace(f"'{SENTINELS[name]}'", f"'{moment:%Y-%m-%d %H:%M:%S}'")
    return text


def _render(sql: str, dialect: str, values: dict[str, str] | None) -> str:
    import sqlglot

    from cryptopulse.models.dialects import patch

    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    if values:
        tree = tree.transform(lambda node: _bind(node, values))
    return patch(tree, dialect).sql(dialect=dialect)


def _bind(node: Any, values: dict[str, str]) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Placeholder) and node.name in values:
        return exp.Literal.string(values[node.name])
    return node
