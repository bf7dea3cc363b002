"""The Airflow tasks of `dags/cryptopulse_daily.py`: each takes the run's data interval from its context and calls the library.

Airflow passes a task the context values its callable names as keyword arguments (`data_interval_start`, `run_id`,
`outlet_events`). Failures a retry cannot fix (a failed gate, a bad option) fail the task at once; a source
without credentials is skipped. Each task returns what it did (rows, files, checks) as its XCom. The warehouse is
written by one task, `build_and_audit` (`pipeline.write_audit_publish`, as `cryptopulse run`): a failed gate rolls
the whole day back, so it leaves nothing but its results in `quality_results`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from airflow.sdk import Asset, Connection, Variable
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException, AirflowSkipException

from cryptopulse.config import ConfigError, Settings, load_settings
from cryptopulse.engines.base import EngineError
from cryptopulse.interval import Interval, IntervalError
from cryptopulse.lake import Lake
from cryptopulse.lake.publish import published_tables
from cryptopulse.orchestration import ingest
from cryptopulse.orchestration.options import RunOptions, env_lookup, read_run_options
from cryptopulse.pipeline import GateFailed, RunReport, publish_step, stage_step, write_audit_publish

ASSET_SCHEME = "cryptopulse"
# Failures that fail the task without retrying: they would fail the same way again.
FINAL_ERRORS = (GateFailed, ConfigError, IntervalError, EngineError)
Moment = dt.datetime | None  # a context datetime; None outside a scheduled or manual run


def published_assets() -> dict[str, Asset]:
    """One asset per published table (`cryptopulse://published/<table>`): the publish task's outlets."""
    return {table: Asset(name=f"{ASSET_SCHEME}_{table}", uri=f"{ASSET_SCHEME}://published/{table}", group="cryptopulse")
            for table, _, _ in published_tables()}


def day_interval(start: Moment, end: Moment) -> Interval:
    """The whole UTC days of a data interval: the interval [D 07:00, D+1 07:00) of a daily run is the day D."""
    if start is None or end is None:
        raise AirflowFailException("this run has no data interval: trigger it with a logical date")
    try:
        return Interval(start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date())
    except IntervalError:
        raise AirflowFailException(
            f"data interval [{start}, {end}) spans no whole UTC day: schedule the DAG with daily data intervals"
        ) from None


# -- ingest ------------------------------------------------------------------------------------------
def coingecko_catalog() -> list[str]:
    """Land CoinGecko's coin list and the tracked coins' markets; return the tracked coin ids."""
    with _outcomes():
        return ingest.coingecko_catalog(_settings(), _options(), _connection)


def coingecko_history(coin_id: str, data_interval_start: Moment = None, data_interval_end: Moment = None) -> dict[str, Any]:
    """Land one coin's hourly market chart for the run's day."""
    with _outcomes():
        interval = day_interval(data_interval_start, data_interval_end)
        return ingest.coingecko_history(_settings(), _options(), _connection, coin_id, interval)


def x_posts(data_interval_start: Moment = None, data_interval_end: Moment = None) -> dict[str, Any]:
    """Land the day's X posts about the tracked coins; skipped without credentials."""
    with _outcomes():
        return ingest.x_posts(_settings(), _options(), _connection, day_interval(data_interval_start, data_interval_end))


def reddit_posts(data_interval_start: Moment = None, data_interval_end: Moment = None) -> dict[str, Any]:
    """Land the day's posts of the configured subreddits; skipped without credentials."""
    with _outcomes():
        return ingest.reddit_posts(_settings(), _options(), _connection, day_interval(data_interval_start, data_interval_end))


def sources_failed() -> None:
    """Runs only when a source failed: fails the run, after the other sources' data went on through the pipeline."""
    raise AirflowFailException("a source failed (see the ingest group); the others' data was staged and, if the gates passed, published")


# -- stage, score, build, publish -----------------------------------------------------------------------
def stage(data_interval_start: Moment = None, data_interval_end: Moment = None) -> dict[str, Any]:
    """Raw → staged for the run's day: parse, type, deduplicate, quarantine."""
    with _outcomes():
        results, _ = stage_step(_settings(), day_interval(data_interval_start, data_interval_end))
        return {r.dataset: r.as_dict() for r in results}


def score_posts(data_interval_start: Moment = None, data_interval_end: Moment = None) -> dict[str, Any]:
    """Score the day's staged posts that have no score yet (VADER + crypto lexicon) and flag bots/spam, before the build."""
    from cryptopulse.analysis.enrich import score_staged  # pandas: loaded by the task, not by the DAG file

    with _outcomes():
        report = score_staged(_settings(), day_interval(data_interval_start, data_interval_end))
        return {"posts_scored": report.posts_scored, "distinct_texts": report.distinct_texts,
                "flagged_posts": report.flagged_posts, "flagged": report.flagged}


def build_and_audit(data_interval_start: Moment = None, data_interval_end: Moment = None, run_id: str | None = None) -> dict[str, Any]:
    """Build every model and system table for the day in one transaction and run every gate: committed only if all pass.

    The sentiment fact and marts are rebuilt on to the warehouse's last day (a backfilled day is in the 20-day
    baselines of the days after it); the result's `interval` is what `publish` publishes.
    """
    from cryptopulse.analysis.enrich import enriched_intervals

    with _outcomes():
        settings, day = _settings(), day_interval(data_interval_start, data_interval_end)
        wider = enriched_intervals(settings, day)
        report = write_audit_publish(settings, RunReport(_safe(run_id), day), model_intervals=wider, publish=False)
        end = max(day.end, *(i.end for i in wider.values()))
        return {"interval": [str(day.start), str(end)], "models": {m.name: m.rows_written for m in report.models},
                "checks_passed": len(report.checks)}


def publish(data_interval_start: Moment = None, data_interval_end: Moment = None, run_id: str | None = None,
            outlet_events: Any = None, built: dict[str, Any] | None = None) -> dict[str, int]:
    """Publish what `build_and_audit` committed (`built`: its result) as a new version; emit one asset event per table.

    That is the day's partitions and the whole dimensions and aggregates, and after a backfilled day also the later
    days whose sentiment marts the build recomputed.
    """
    with _outcomes():
        settings = _settings()
        interval = Interval.parse(*built["interval"]) if built else day_interval(data_interval_start, data_interval_end)
        tables = publish_step(settings, interval, _safe(run_id))
        assets, lake = published_assets(), Lake(settings.lake)
        for table in tables:
            if outlet_events is not None and table.name in assets:
                outlet_events[assets[table.name]].extra = {
                    "rows": table.rows, "interval": [str(interval.start), str(interval.end)],
                    "location": lake.uri(f"published/{table.name}"),
                }
        return {t.name: t.rows for t in tables}


# -- helpers ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _outcomes() -> Iterator[None]:
    """Skip a source that is not configured; fail at once (no retry) on errors a retry cannot fix."""
    try:
        yield
    except ingest.NotConfigured as e:
        raise AirflowSkipException(str(e)) from None
    except FINAL_ERRORS as e:
        raise AirflowFailException(str(e)) from e


def _settings() -> Settings:
    return load_settings()


def _options() -> RunOptions:
    return read_run_options(_lookup)


def _lookup(name: str) -> str | None:
    """A run option from the environment, else from the Airflow Variable `cryptopulse_<name>`."""
    found = env_lookup(name)
    return found if found is not None else Variable.get(f"cryptopulse_{name}", default=None)


def _connection(conn_id: str) -> Connection | None:
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _safe(run_id: str | None) -> str:
    """The Airflow run id as a file-name-safe token (it names the publish's pending folder)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id or "") or "airflow"
