"""Turn each model's declared checks into SQL that returns the violating rows; run them; keep an example."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptopulse.engines import Engine
from cryptopulse.interval import Interval
from cryptopulse.models.registry import Model, load_models
from cryptopulse.sqltext import partition_filter

# Which fact table and date column each staged dataset lands in, for reconciliation.
RECONCILED = {"coin_hourly": "fct_coin_hourly", "posts": "fct_post"}


@dataclass(frozen=True)
class Check:
    model: str
    name: str
    violations_sql: str  # rows that break the check; empty result = pass


@dataclass(frozen=True)
class CheckResult:
    model: str
    name: str
    passed: bool
    failing_rows: int
    example: str

    @property
    def label(self) -> str:
        return f"{self.model}.{self.name}"


def checks_for(model: Model, interval: Interval, freshness_hours: int) -> list[Check]:
    """The checks declared in a model's header, scoped to the partitions the run replaced."""
    scope = model.model_interval(interval)
    rows = f"(SELECT * FROM {model.name} WHERE {partition_filter(model.partition, scope) if model.incremental else '1 = 1'})"
    checks = []
    if model.non_empty:
        checks.append(Check(model.name, "non_empty", f"SELECT 'no rows' AS problem WHERE NOT EXISTS (SELECT 1 FROM {rows} AS r)"))
    for col in model.not_null:
        checks.append(Check(model.name, f"not_null({col})", f"SELECT * FROM {rows} AS r WHERE {col} IS NULL"))
    if model.unique_key:
        key = ", ".join(model.unique_key)
        checks.append(
            Check(model.name, f"unique({key})", f"SELECT {key}, count(*) AS copies FROM {rows} AS r GROUP BY {key} HAVING count(*) > 1")
        )
    for rel in model.relationships:
        col, (table, ref) = rel["column"], rel["to"].split(".")
        checks.append(
            Check(
                model.name,
                f"relationship({col} -> {rel['to']})",
                f"SELECT r.* FROM {rows} AS r WHERE r.{col} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {table} AS d WHERE d.{ref} = r.{col})",
            )
        )
    for rng in model.ranges:
        col, conds = rng["column"], []
        if "min" in rng:
            conds.append(f"{col} < {rng['min']}")
        if "max" in rng:
            conds.append(f"{col} > {rng['max']}")
        bounds = f"[{rng.get('min', '-inf')}, {rng.get('max', 'inf')}]"
        checks.append(Check(model.name, f"range({col} in {bounds})", f"SELECT * FROM {rows} AS r WHERE {' OR '.join(conds)}"))
    if model.freshness:
        col = model.freshness["column"]
        limit = interval.end_ts - dt.timedelta(hours=int(model.freshness.get("max_lag_hours", freshness_hours)))
        checks.append(
            Check(
                model.name,
                f"freshness({col} >= {limit:%Y-%m-%d %H:%M})",
                f"SELECT max({col}) AS newest FROM {rows} AS r HAVING max({col}) IS NULL "
                f"OR max({col}) < CAST('{limit:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)",
            )
        )
    return checks


def reconciliation_checks(interval: Interval) -> list[Check]:
    """Per dataset and day: every day of the interval was staged; staging accounted for every record it received
    (received = staged + quarantined + duplicates, each counted on its own); and records received = loaded into
    the fact + quarantined + known duplicates."""
    checks = []
    days = partition_filter("s.date", interval)
    for dataset, fact in RECONCILED.items():
        checks.append(
            Check(
                fact,
                f"accounting({dataset})",
                f"""
                SELECT s.date, s.received, s.staged, s.quarantined, s.duplicates FROM staging_stats AS s
                WHERE s.dataset = '{dataset}' AND {days} AND s.received <> s.staged + s.quarantined + s.duplicates
                """,
            )
        )
        checks.append(
            Check(
                fact,
                f"reconciliation({dataset})",
                f"""
                WITH loaded AS (SELECT date, count(*) AS n FROM {fact} WHERE {partition_filter('date', interval)} GROUP BY date),
                     held AS (SELECT date, count(*) AS n FROM quarantine
                              WHERE dataset = '{dataset}' AND {partition_filter('date', interval)} GROUP BY date)
                SELECT s.date, s.received, coalesce(l.n, 0) AS loaded, coalesce(q.n, 0) AS quarantined, s.duplicates
                FROM staging_stats AS s
                LEFT JOIN loaded AS l ON l.date = s.date
                LEFT JOIN held AS q ON q.date = s.date
                WHERE s.dataset = '{dataset}' AND {days}
                  AND s.received <> coalesce(l.n, 0) + coalesce(q.n, 0) + s.duplicates
                """,
            )
        )
        checks.append(
            Check(
                fact,
                f"staged_coverage({dataset})",
                f"""
                SELECT DISTINCT t.date AS unstaged_day FROM dim_time AS t
                WHERE {partition_filter('t.date', interval)}
                  AND NOT EXISTS (SELECT 1 FROM staging_stats AS s WHERE s.dataset = '{dataset}' AND s.date = t.date)
                """,
            )
        )
    return checks


def all_checks(interval: Interval, freshness_hours: int) -> list[Check]:
    checks = [c for m in load_models() for c in checks_for(m, interval, freshness_hours)]
    return checks + reconciliation_checks(interval)


def run_checks(engine: Engine, interval: Interval, freshness_hours: int = 36, checks: list[Check] | None = None) -> list[CheckResult]:
    """Run `checks` (default: every check); each result carries the number of violating rows and the first one.

    All checks are counted in one query (one round trip, one job on Spark); examples are fetched for failures only.
    """
    checks = all_checks(interval, freshness_hours) if checks is None else checks
    if not checks:
        return []
    counting = " UNION ALL ".join(f"SELECT {i} AS i, count(*) AS n FROM ({c.violations_sql}) AS v" for i, c in enumerate(checks))
    counts = dict(engine.fetchall(counting))
    results = []
    for i, check in enumerate(checks):
        example = ""
        if counts[i]:
            columns, rows = engine.query(f"SELECT * FROM ({check.violations_sql}) AS v LIMIT 1")
            example = ", ".join(f"{c}={v!r}" if isinstance(v, str) else f"{c}={v}" for c, v in zip(columns, rows[0])) if rows else ""
        results.append(CheckResult(check.model, check.name, counts[i] == 0, counts[i], example[:500]))
    return results
