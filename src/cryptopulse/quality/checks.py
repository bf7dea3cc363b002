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
    rows: str | None = None  # a check over one model's rows: those rows (a parenthesised query) ...
    violations_count: str = ""  # ... and an aggregate over them (`AS r`) counting the violations (set with `rows`)


def row_check(model: str, name: str, rows: str, predicate: str) -> Check:
    """A check each row of `rows` meets on its own: the violations are the rows where `predicate` holds."""
    return Check(model, name, f"SELECT * FROM {rows} AS r WHERE {predicate}", rows, f"count(CASE WHEN {predicate} THEN 1 END)")


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
        checks.append(Check(model.name, "non_empty", f"SELECT 'no rows' AS problem WHERE NOT EXISTS (SELECT 1 FROM {rows} AS r)",
                            rows, "CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"))
    for col in model.not_null:
        checks.append(row_check(model.name, f"not_null({col})", rows, f"{col} IS NULL"))
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
        checks.append(row_check(model.name, f"range({col} in {bounds})", rows, ' OR '.join(conds)))
    if model.freshness:
        col = model.freshness["column"]
        limit = interval.end_ts - dt.timedelta(hours=int(model.freshness.get("max_lag_hours", freshness_hours)))
        stale = f"max({col}) IS NULL OR max({col}) < CAST('{limit:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"
        checks.append(
            Check(
                model.name,
                f"freshness({col} >= {limit:%Y-%m-%d %H:%M})",
                f"SELECT max({col}) AS newest FROM {rows} AS r HAVING {stale}",
                rows,
                f"CASE WHEN {stale} THEN 1 ELSE 0 END",
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

    All checks are counted in one query (one round trip); examples are fetched for failures only.
    """
    checks = all_checks(interval, freshness_hours) if checks is None else checks
    if not checks:
        return []
    counts = engine.fetchall(counting_sql(checks))[0]
    results = []
    for i, check in enumerate(checks):
        example = ""
        if counts[i]:
            columns, rows = engine.query(f"SELECT * FROM ({check.violations_sql}) AS v LIMIT 1")
            example = ", ".join(f"{c}={v!r}" if isinstance(v, str) else f"{c}={v}" for c, v in zip(columns, rows[0])) if rows else ""
        results.append(CheckResult(check.model, check.name, counts[i] == 0, counts[i], example[:500]))
    return results


def counting_sql(checks: list[Check]) -> str:
    """One query returning one row: column `c<i>` is the number of rows violating `checks[i]`.

    Checks over the same rows are counted together in one scan of them (a table's not-null, range, non-empty and
    freshness checks read it once, not once each); every other check is counted on its own. Each part is an
    aggregate without GROUP BY, so exactly one row, and their cross join is one row.
    """
    parts, shared = [], {}
    for i, check in enumerate(checks):
        if check.rows is None:
            parts.append(f"(SELECT count(*) AS c{i} FROM ({check.violations_sql}) AS v)")
        else:
            shared.setdefault(check.rows, []).append(i)
    for rows, members in shared.items():
        parts.append(f"(SELECT {', '.join(f'{checks[i].violations_count} AS c{i}' for i in members)} FROM {rows} AS r)")
    joined = " CROSS JOIN ".join(f"{part} AS q{n}" for n, part in enumerate(parts))
    return f"SELECT {', '.join(f'c{i}' for i in range(len(checks)))} FROM {joined}"
