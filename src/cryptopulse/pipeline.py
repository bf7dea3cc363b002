"""The pipeline's steps as plain functions (stage → build → gate → publish) that the CLI and Airflow both call."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.lock import RunLocked, run_lock
from cryptopulse.lake.manifest import read_manifest
from cryptopulse.lake.publish import PublishedTable, publish, published_tables
from cryptopulse.lake.runlog import unrecorded_runs, write_run
from cryptopulse.models.build import SYSTEM_LOADS, ModelResult, build_models, load_system_tables
from cryptopulse.models.registry import Model, load_models
from cryptopulse.quality import CheckResult, run_checks
from cryptopulse.quality.checks import checks_for, reconciliation_checks
from cryptopulse.staging import StageResult, stage
from cryptopulse.staging.common import staged_extent
from cryptopulse.staging.run import raw_extent

Progress = Callable[[str], None]

SYSTEM_DDL = {
    "quality_results": (
        "run_id VARCHAR, checked_at TIMESTAMP, interval_start DATE, interval_end DATE, model VARCHAR, "
        "check_name VARCHAR, passed BOOLEAN, failing_rows BIGINT, example VARCHAR"
    ),
    "pipeline_runs": (
        "run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, interval_start DATE, interval_end DATE, "
        "status VARCHAR, seconds DOUBLE, details VARCHAR"
    ),
}


class GateFailed(Exception):
    """A quality gate failed; nothing was published and the warehouse kept its previous state."""

    def __init__(self, failures: list[CheckResult]) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(f"quality gate failed: {first.label} ({first.failing_rows} rows), e.g. {first.example}")


class NothingToRun(Exception):
    """The raw zone holds no records for the requested interval."""


__all__ = ["GateFailed", "NothingToRun", "RunLocked", "RunReport", "build_step", "publish_step", "run", "run_in_batches", "stage_step",
           "write_audit_publish"]


@dataclass
class RunReport:
    run_id: str
    interval: Interval | None = None
    status: str = "running"
    steps: dict[str, float] = field(default_factory=dict)
    staged: list[StageResult] = field(default_factory=list)
    models: list[ModelResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    published: list[PublishedTable] = field(default_factory=list)
    error: str | None = None
    published_version: int | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "interval": [str(self.interval.start), str(self.interval.end)] if self.interval else None,
            "status": self.status,
            "steps_s": {k: round(v, 3) for k, v in self.steps.items()},
            "staged": [s.as_dict() for s in self.staged],
            "models": {m.name: m.rows_written for m in self.models},
            "checks": {"passed": sum(c.passed for c in self.checks), "failed": [c.label for c in self.failures]},
            "published": {t.name: t.rows for t in self.published},
            "error": self.error,
        }


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


@contextlib.contextmanager
def timed(report: RunReport, step: str, progress: Progress | None) -> Iterator[None]:
    if progress:
        progress(step)
    started = time.perf_counter()
    try:
        yield
    finally:
        report.steps[step] = time.perf_counter() - started


def staged_interval(lake: Lake, interval: Interval | None) -> Interval:
    """`interval`, or every staged day when it is None; NothingToRun when nothing is staged."""
    interval = interval or staged_extent(lake)
    if interval is None:
        raise NothingToRun(f"nothing staged in {lake.uri('staged')} (run `cryptopulse stage` first)")
    return interval


def stage_step(settings: Settings, interval: Interval | None, wait: bool = False) -> tuple[list[StageResult], Interval | None]:
    """Raw → staged for the interval (None: everything in the raw zone); returns the interval covered."""
    lake = Lake(settings.lake)
    with run_lock(lake, "stage", wait):
        return stage(lake, interval, threads=settings.threads, memory_limit=settings.memory_limit,
                     temp_directory=settings.temp_directory, plausible_since=settings.plausible_since)


def build_step(
    settings: Settings, interval: Interval | None, run_id: str | None = None, wait: bool = False
) -> tuple[Interval, list[ModelResult], list[CheckResult]]:
    """Staged → warehouse, audited, unpublished: `write_audit_publish` over the interval (None: every staged day).

    Raises GateFailed when a gate failed (the warehouse kept its previous state; the results are in `quality_results`).
    """
    lake = Lake(settings.lake)
    with run_lock(lake, run_id or "build", wait):
        report = RunReport(run_id or new_run_id(), staged_interval(lake, interval))
        write_audit_publish(settings, report, publish=False)
    return report.interval, report.models, report.checks


def write_audit_publish(
    settings: Settings,
    report: RunReport,
    models: Collection[str] | None = None,
    *,
    system_tables: bool = True,
    model_intervals: Mapping[str, Interval] | None = None,
    publish: bool = True,
    progress: Progress | None = None,
    wait: bool = False,
) -> RunReport:
    """Write `report.interval` into the warehouse in one engine transaction, audit it with the gates, then commit and
    publish — or, when a gate fails (GateFailed), roll back and leave the warehouse and the published version as they were.

    `models` (None: every model) are built over the report's interval, or over `model_intervals[name]` when given;
    `system_tables` also loads quarantine and staging_stats, audited by staged coverage and reconciliation. The check
    results go to `quality_results` either way. The published interval spans all of them; a subset of models
    publishes only its tables (and `quality_results`). Fills `report` (models, checks, published, steps).
    """
    lake = Lake(settings.lake)
    chosen = tuple(m for m in load_models() if models is None or m.name in models)
    intervals = {m.name: (model_intervals or {}).get(m.name, report.interval) for m in chosen}
    unknown = sorted({*(models or ()), *(model_intervals or {})} - set(intervals))
    if unknown:
        raise ValueError(f"write_audit_publish: {', '.join(unknown)} not among the models to build")
    scope = _spanning([report.interval, *intervals.values()])
    with run_lock(lake, report.run_id, wait):
        with timed(report, "build", progress):
            _write_and_audit(settings, lake, report, chosen, intervals, scope, system_tables)
        if publish:
            only = None if models is None and system_tables else [*intervals, *(SYSTEM_LOADS if system_tables else ()), "quality_results"]
            with timed(report, "publish", progress):
                report.published = publish_step(settings, scope, report.run_id, only)
            report.published_version = (read_manifest(lake) or {}).get("version")
    return report


def _write_and_audit(
    settings: Settings, lake: Lake, report: RunReport, models: tuple[Model, ...], intervals: dict[str, Interval],
    scope: Interval, system_tables: bool,
) -> None:
    """Build, load and check inside one transaction; commit only when every check passed; record the checks."""
    checks = [c for m in models for c in checks_for(m, intervals[m.name], settings.freshness_hours)]
    checks += reconciliation_checks(report.interval) if system_tables else []
    engine = open_engine(settings)
    try:
        engine.attach_staged(lake, scope.days())
        engine.begin()
        try:
            report.models = [r for m in models for r in build_models(engine, intervals[m.name], (m,))]
            if system_tables:
                load_system_tables(engine, report.interval)
            report.checks = run_checks(engine, report.interval, settings.freshness_hours, checks)
        except BaseException:
            engine.rollback()
            raise
        engine.rollback() if report.failures else engine.commit()
        record_checks(engine, report.run_id, report.interval, report.checks)
    finally:
        engine.close()
    if report.failures:
        raise GateFailed(report.failures)


def _spanning(intervals: list[Interval]) -> Interval:
    return Interval(min(i.start for i in intervals), max(i.end for i in intervals))


def publish_step(
    settings: Settings, interval: Interval | None, run_id: str | None = None, only: list[str] | None = None, wait: bool = False
) -> list[PublishedTable]:
    """Warehouse → a new published version: the interval's partitions (None: every staged day), all tables or `only`."""
    lake = Lake(settings.lake)
    with run_lock(lake, run_id or "publish", wait):
        interval = staged_interval(lake, interval)
        engine = open_engine(settings)
        try:
            unbuilt = [name for name, _, _ in published_tables() if (only is None or name in only) and not engine.table_exists(name)]
            if unbuilt:
                raise NothingToRun(f"the warehouse has no {unbuilt[0]} yet: nothing to publish (run `cryptopulse build` first)")
            return publish(engine, lake, interval, run_id or new_run_id(), only)
        finally:
            engine.close()


def run(settings: Settings, interval: Interval | None = None, progress: Progress | None = None, wait: bool = False) -> RunReport:
    """The whole pipeline for an interval of days under the run lock: stage, build + gates, publish.

    Every outcome — published, gate failed, failed, refused because another run holds the lake — is recorded
    in the lake's run log and, by the next run that holds the warehouse, in `pipeline_runs`.
    """
    report = RunReport(run_id=new_run_id(), interval=interval)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lake = Lake(settings.lake)
    try:
        with run_lock(lake, report.run_id, wait):
            try:
                _run_steps(settings, lake, report, progress)
            except GateFailed as e:
                report.status, report.checks, report.error = "gate_failed", e.failures, str(e)
                raise
            except BaseException as e:
                report.status, report.error = "failed", _one_line(e)
                raise
            finally:
                _record(settings, lake, report, started)
    except RunLocked as e:
        report.status, report.error = "refused", str(e)
        write_run(lake, run_record(report, started))
        raise
    return report


def _run_steps(settings: Settings, lake: Lake, report: RunReport, progress: Progress | None) -> None:
    with timed(report, "stage", progress):
        report.staged, report.interval = stage_step(settings, report.interval)
    if report.interval is None:
        raise NothingToRun(f"no raw records found in {lake.uri('raw')} (run `cryptopulse generate` or an ingest first)")
    write_audit_publish(settings, report, progress=progress)
    report.status = "ok"


def run_in_batches(
    settings: Settings, interval: Interval | None, batch_days: int, progress: Progress | None = None, wait: bool = False
) -> list[RunReport]:
    """The pipeline over `interval` as consecutive runs of `batch_days` days each, oldest first: what a backfill
    does, with memory and spill bounded by one batch's data however large the whole is. Without an interval it
    covers the raw zone's partitions (`raw_extent`); a raw zone with unpartitioned files runs whole."""
    whole = interval or raw_extent(Lake(settings.lake), settings.plausible_since)
    if whole is None:
        return [run(settings, None, progress, wait)]
    return [run(settings, part, progress, wait) for part in whole.batches(batch_days)]


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _record(settings: Settings, lake: Lake, report: RunReport, started: dt.datetime) -> None:
    """The run's record in the lake's run log, then every logged run the warehouse lacks into `pipeline_runs`."""
    write_run(lake, run_record(report, started))
    try:
        engine = open_engine(settings)
    except Exception:  # the warehouse itself is what failed: the run log keeps the record
        return
    try:
        known = {r[0] for r in engine.fetchall("SELECT run_id FROM pipeline_runs")} if engine.table_exists("pipeline_runs") else set()
        append_rows(engine, "pipeline_runs", [_run_row(r) for r in unrecorded_runs(lake, known)])
    finally:
        engine.close()


def run_record(report: RunReport, started: dt.datetime) -> dict:
    """The run log's record of a run (keys: `cryptopulse.lake.runlog.recent_runs`)."""
    iv = report.interval
    return {
        "run_id": report.run_id,
        "started_at": started.isoformat(sep=" ", timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds"),
        "interval_start": iv.start.isoformat() if iv else None,
        "interval_end": iv.end.isoformat() if iv else None,
        "status": report.status,
        "seconds": round(sum(report.steps.values()), 3),
        "steps_s": {k: round(v, 3) for k, v in report.steps.items()},
        "staged": [s.as_dict() for s in report.staged],
        "checks": [
            {"model": c.model, "check": c.name, "passed": c.passed, "failing_rows": c.failing_rows, "example": c.example}
            for c in report.checks
        ],
        "published_version": report.published_version,
        "error": report.error,
        "details": report.as_dict(),
    }


def _run_row(record: dict) -> tuple:
    def day(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return (record["run_id"], dt.datetime.fromisoformat(record["started_at"]), dt.datetime.fromisoformat(record["finished_at"]),
            day(record["interval_start"]), day(record["interval_end"]), record["status"], record["seconds"],
            json.dumps(record.get("details", {}), default=str))


def record_checks(engine: Engine, run_id: str, interval: Interval, checks: list[CheckResult]) -> None:
    """Append check results to `quality_results`."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [(run_id, now, interval.start, interval.end, c.model, c.name, c.passed, c.failing_rows, c.example) for c in checks]
    append_rows(engine, "quality_results", rows)


def append_rows(engine: Engine, table: str, rows: list[tuple]) -> None:
    """Append `rows` to the log table `table` (created on first use from `SYSTEM_DDL`)."""
    engine.append_rows(table, SYSTEM_DDL[table], rows)
