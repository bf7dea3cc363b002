"""The warehouse steps of a layered run (the Airflow DAG): each layer in its own transaction, the gates between them.

`cryptopulse run` builds every model and runs every gate in one transaction; here each layer commits on its own,
so a failed gate leaves the interval's new dimension and fact partitions in the warehouse (with the failure in
`quality_results`), the aggregates as they were, and the published zone untouched. Rerunning the day replaces them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.models.build import ModelResult, build_models, load_system_tables
from cryptopulse.models.layers import models_in
from cryptopulse.pipeline import GateFailed, record_checks
from cryptopulse.quality import CheckResult, run_checks
from cryptopulse.quality.checks import Check, checks_for, reconciliation_checks

GATED_BEFORE_AGGREGATES = ("dimensions", "facts")


def load_layer(settings: Settings, interval: Interval, layer: str) -> list[ModelResult]:
    """Build one layer's models for the interval in one transaction; the facts layer also loads quarantine and staging_stats."""
    with _engine(settings, interval) as engine, _transaction(engine):
        results = build_models(engine, interval, models_in(layer))
        if layer == "facts":
            counts = load_system_tables(engine, interval)
            results += [ModelResult(table, rows, 0.0) for table, rows in counts.items()]
    return results


def check_gates(settings: Settings, interval: Interval, run_id: str) -> list[CheckResult]:
    """The gates of the dimensions and facts, staged coverage and reconciliation; results go to `quality_results`.

    Raises GateFailed when any check failed.
    """
    checks = _checks(interval, settings.freshness_hours, *GATED_BEFORE_AGGREGATES) + reconciliation_checks(interval)
    with _engine(settings, None) as engine:
        results = run_checks(engine, interval, settings.freshness_hours, checks)
        record_checks(engine, run_id, interval, results)
    _raise_failures(results)
    return results


def build_aggregates(settings: Settings, interval: Interval, run_id: str) -> tuple[list[ModelResult], list[CheckResult]]:
    """Build the aggregates and run their gates in one transaction, rolled back (GateFailed) when a gate fails."""
    with _engine(settings, interval) as engine:
        engine.begin()
        try:
            models = build_models(engine, interval, models_in("aggregates"))
            results = run_checks(engine, interval, settings.freshness_hours, _checks(interval, settings.freshness_hours, "aggregates"))
        except BaseException:
            engine.rollback()
            raise
        engine.rollback() if any(not r.passed for r in results) else engine.commit()
        record_checks(engine, run_id, interval, results)
    _raise_failures(results)
    return models, results


def _checks(interval: Interval, freshness_hours: int, *layers: str) -> list[Check]:
    return [c for m in models_in(*layers) for c in checks_for(m, interval, freshness_hours)]


def _raise_failures(results: list[CheckResult]) -> None:
    failures = [r for r in results if not r.passed]
    if failures:
        raise GateFailed(failures)


@contextlib.contextmanager
def _engine(settings: Settings, interval: Interval | None) -> Iterator[Engine]:
    """The warehouse engine, with the interval's staged days attached when building."""
    engine = open_engine(settings)
    try:
        if interval is not None:
            engine.attach_staged(Lake(settings.lake), interval.days())
        yield engine
    finally:
        engine.close()


@contextlib.contextmanager
def _transaction(engine: Engine) -> Iterator[None]:
    engine.begin()
    try:
        yield
    except BaseException:
        engine.rollback()
        raise
    engine.commit()
