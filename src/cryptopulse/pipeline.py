"""The pipeline's steps as plain functions (stage → build → gate → publish) that the CLI and Airflow both call."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.publish import PublishedTable, publish
from cryptopulse.models.build import ModelResult, build_models, load_system_tables
from cryptopulse.quality import CheckResult, run_checks
from cryptopulse.staging import StageResult, stage

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


def stage_step(settings: Settings, interval: Interval | None) -> tuple[list[StageResult], Interval | None]:
    """Raw → staged for the interval (None: everything in the raw zone)."""
    return stage(Lake(settings.lake), interval, threads=settings.threads)


def build_step(engine: Engine, lake: Lake, interval: Interval, freshness_hours: int) -> tuple[list[ModelResult], list[CheckResult]]:
    """Staged → warehouse in one transaction, gated: when a check fails the transaction is rolled back."""
    engine.attach_staged(lake, interval.days())
    engine.begin()
    try:
        models = build_models(engine, interval)
        load_system_tables(engine, interval)
        checks = run_checks(engine, interval, freshness_hours)
    except BaseException:
        engine.rollback()
        raise
    if all(c.passed for c in checks):
        engine.commit()
    else:
        engine.rollback()
    return models, checks


def run(settings: Settings, interval: Interval | None = None, progress: Progress | None = None) -> RunReport:
    """The whole pipeline for an interval of days: stage, build, gate, publish; recorded in `pipeline_runs`."""
    report = RunReport(run_id=new_run_id())
    lake = Lake(settings.lake)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with timed(report, "stage", progress):
        report.staged, report.interval = stage_step(settings, interval)
    if report.interval is None:
        raise NothingToRun(f"no raw records found in {lake.uri('raw')} (run `cryptopulse generate` or an ingest first)")
    engine = open_engine(settings)
    try:
        with timed(report, "build", progress):
            report.models, report.checks = build_step(engine, lake, report.interval, settings.freshness_hours)
        if report.failures:
            report.status = "gate_failed"
        else:
            with timed(report, "publish", progress):
                report.published = publish(engine, lake, report.interval, report.run_id)
            report.status = "ok"
        record_run(engine, report, started)
    finally:
        engine.close()
    if report.failures:
        raise GateFailed(report.failures)
    return report


def record_run(engine: Engine, report: RunReport, started: dt.datetime) -> None:
    """Append this run's check results and summary to `quality_results` and `pipeline_runs`."""
    for table, columns in SYSTEM_DDL.items():
        engine.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    iv = report.interval
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for c in report.checks:
        engine.execute(
            "INSERT INTO quality_results VALUES ("
            + ", ".join(
                [_lit(report.run_id), _lit(now), _lit(iv.start), _lit(iv.end), _lit(c.model), _lit(c.name),
                 "TRUE" if c.passed else "FALSE", str(c.failing_rows), _lit(c.example)]
            )
            + ")"
        )
    details = json.dumps(report.as_dict())
    engine.execute(
        "INSERT INTO pipeline_runs VALUES ("
        + ", ".join(
            [_lit(report.run_id), _lit(started), _lit(now), _lit(iv.start), _lit(iv.end), _lit(report.status),
             str(round(sum(report.steps.values()), 3)), _lit(details)]
        )
        + ")"
    )


def _lit(value: object) -> str:
    """A SQL literal for a string, date or timestamp (portable quoting)."""
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"
    if isinstance(value, dt.date):
        return f"DATE '{value}'"
    return "'" + str(value).replace("'", "''") + "'"
