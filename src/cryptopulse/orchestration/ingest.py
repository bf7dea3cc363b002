"""The ingest tasks of one run: live sources through their clients, or (offline) the synthetic reference dataset.

Each function lands one source's data for the run's interval in the raw zone and returns a small report
(what it fetched and landed) for the task's log and XCom. A source that cannot run (no credentials, nothing
offline) raises NotConfigured: its task is skipped and the others go on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptopulse.config import Settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.orchestration import reference
from cryptopulse.orchestration.credentials import ConnectionLookup, coingecko_keys, reddit_app, x_token
from cryptopulse.orchestration.options import RunOptions
from cryptopulse.sources.clients import api_client
from cryptopulse.sources.coingecko import land_catalog, land_coin_history
from cryptopulse.sources.coingecko.settings import COINS_MARKETS_PATH
from cryptopulse.sources.landing import IngestReport
from cryptopulse.sources.reddit import ingest_reddit
from cryptopulse.sources.reddit.settings import CLIENT_ID_ENV, CLIENT_SECRET_ENV
from cryptopulse.sources.x import ingest_x
from cryptopulse.sources.x.settings import TOKEN_ENV

log = logging.getLogger("cryptopulse.orchestration.ingest")
SUMMARY = ("source", "pages", "records", "files_written", "retries", "requests", "skipped", "repeated", "seconds")


class NotConfigured(Exception):
    """A source this run cannot use (no credentials, or no offline data): its task is skipped."""


def coingecko_catalog(settings: Settings, options: RunOptions, connection: ConnectionLookup) -> list[str]:
    """Land the coin list and the tracked coins' markets; return the tracked ids (one history task each)."""
    lake = Lake(settings.lake)
    if options.offline:
        return reference.land_catalog(lake, _reference(options))
    with api_client("coingecko", **coingecko_keys(connection), **_client_options(options)) as client:
        tracked, report = land_catalog(lake, client, list(options.coins), options.top or None)
    _log(report, f"catalogue of {len(tracked)} coins")
    return tracked


def coingecko_history(settings: Settings, options: RunOptions, connection: ConnectionLookup, coin_id: str,
                      interval: Interval) -> dict[str, Any]:
    """Land one coin's hourly market chart for the months the interval touches."""
    lake = Lake(settings.lake)
    if options.offline:
        return _offline_report("coingecko", reference.land_charts(lake, _reference(options), coin_id, interval))
    with api_client("coingecko", **coingecko_keys(connection), **_client_options(options)) as client:
        report = land_coin_history(lake, client, coin_id, interval.start, interval.end)
    return _log(report, coin_id)


def x_posts(settings: Settings, options: RunOptions, connection: ConnectionLookup, interval: Interval) -> dict[str, Any]:
    """Land the interval's X posts about the tracked coins (recent search reaches back 7 days)."""
    lake = Lake(settings.lake)
    if options.offline:
        return _offline_report("x", reference.land_posts(lake, _reference(options), interval))
    token = x_token(connection)
    if token is None:
        raise NotConfigured(f"x: no credentials (Airflow connection cryptopulse_x or {TOKEN_ENV})")
    with api_client("x", token=token, **_client_options(options)) as client:
        report = ingest_x(lake, tracked_coins(lake), start=interval.start, end=interval.end, client=client)
    return _log(report, "posts")


def reddit_posts(settings: Settings, options: RunOptions, connection: ConnectionLookup, interval: Interval) -> dict[str, Any]:
    """Land the interval's newest posts of the configured subreddits."""
    if options.offline:
        raise NotConfigured("reddit: the offline reference dataset holds no Reddit posts")
    app = reddit_app(connection)
    if app is None:
        raise NotConfigured(f"reddit: no credentials (Airflow connection cryptopulse_reddit or {CLIENT_ID_ENV} + {CLIENT_SECRET_ENV})")
    with api_client("reddit", user_agent=app.user_agent, client_id=app.client_id, client_secret=app.client_secret,
                    **_client_options(options)) as client:
        report = ingest_reddit(Lake(settings.lake), list(options.subreddits), interval.start, interval.end, client)
    return _log(report, "posts")


def tracked_coins(lake: Lake) -> list[str]:
    """The coin ids of the CoinGecko markets file in the lake (landed by the catalogue task, this run or before)."""
    if not lake.exists(COINS_MARKETS_PATH):
        return []
    return [row["id"] for row in json.loads(lake.read_bytes(COINS_MARKETS_PATH)) if isinstance(row, dict) and row.get("id")]


def _reference(options: RunOptions) -> Lake:
    lake = Lake(options.reference)
    reference.ensure_reference(lake, options.reference_scale, options.reference_seed)
    return lake


def _client_options(options: RunOptions) -> dict[str, Any]:
    return {"max_attempts": options.http_attempts, "calls_per_minute": options.calls_per_minute}


def _log(report: IngestReport, what: str) -> dict[str, Any]:
    summary = {k: v for k, v in report.as_dict().items() if k in SUMMARY}
    log.info("%s %s: %d records in %d pages, %d files, %d retries, %.1f s", report.source, what, report.records,
             report.pages, report.files_written, report.retries, report.seconds)
    return summary


def _offline_report(source: str, files: list[str]) -> dict[str, Any]:
    log.info("%s (offline): %d reference files landed", source, len(files))
    return {"source": source, "offline": True, "files_written": len(files)}
