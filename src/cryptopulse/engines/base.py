"""The engine interface the pipeline steps use, and the factory that picks one from the settings."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from cryptopulse.config import Settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.common import partition_dir

# Staged files the engine exposes to the models, per dataset: where they are and their columns.
STAGED_COLUMNS = {
    "stg_coins": "coin_id VARCHAR, symbol VARCHAR, name VARCHAR, market_cap_rank BIGINT, is_tracked BOOLEAN, source VARCHAR",
    "stg_coin_hourly": (
        "coin_id VARCHAR, ts_hour TIMESTAMP, ts_ms BIGINT, price_usd DOUBLE, market_cap_usd DOUBLE, "
        "volume_usd DOUBLE, source VARCHAR, raw_file VARCHAR, date DATE"
    ),
    "stg_posts": (
        "post_id VARCHAR, source VARCHAR, created_at TIMESTAMP, author_id VARCHAR, author VARCHAR, text VARCHAR, "
        "lang VARCHAR, like_count BIGINT, retweet_count BIGINT, reply_count BIGINT, quote_count BIGINT, "
        "score BIGINT, num_comments BIGINT, channel VARCHAR, date DATE"
    ),
    "stg_quarantine": "dataset VARCHAR, date DATE, source VARCHAR, raw_file VARCHAR, reason VARCHAR, record VARCHAR",
    "stg_stats": "dataset VARCHAR, date DATE, received BIGINT, staged BIGINT, quarantined BIGINT, duplicates BIGINT",
    # written by `cryptopulse enrich` (cryptopulse.analysis.enrich), not by staging
    "stg_post_sentiment": (
        "post_id VARCHAR, source VARCHAR, compound DOUBLE, pos DOUBLE, neu DOUBLE, neg DOUBLE, is_copy_storm BOOLEAN, "
        "is_high_rate BOOLEAN, is_spam_pattern BOOLEAN, lexicon_version VARCHAR, date DATE"
    ),
}


# Day-partitioned staged datasets every engine exposes: view name → (dataset folder, file name per day).
STAGED_DATASETS = {
    "stg_coin_hourly": ("coin_hourly", "part-0.csv"),
    "stg_posts": ("posts", "part-0.parquet"),
    "stg_post_sentiment": ("post_sentiment", "part-0.parquet"),  # written by `cryptopulse enrich`
}


def staged_files(lake: Lake, dataset: str, days: list[dt.date] | None, name: str) -> list[str]:
    """Lake-relative staged files called `name` of `dataset` for `days` (None: every staged day) that exist."""
    if days is None:
        found = lake.fs.glob(lake.path(f"staged/{dataset}/date=*/{name}"))
        return sorted(lake.relative(p) for p in found)
    wanted = [f"{partition_dir(dataset, d)}/{name}" for d in days]
    existing = {lake.relative(p) for p in lake.fs.glob(lake.path(f"staged/{dataset}/date=*/{name}"))}
    return [f for f in wanted if f in existing]


class EngineError(Exception):
    """The warehouse cannot be opened or used (bad path, locked file, unknown engine)."""


class Engine(Protocol):
    """What the pipeline needs from a warehouse engine."""

    dialect: str
    location: str

    def execute(self, sql: str) -> None: ...
    def fetchall(self, sql: str) -> list[tuple]: ...
    def query(self, sql: str) -> tuple[list[str], list[tuple]]: ...
    def table_exists(self, name: str) -> bool: ...
    def table_names(self) -> list[str]: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None: ...
    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class WritesTables(Protocol):
    """Engines that write tables themselves: Spark (no DELETE/INSERT in a transaction on Parquet) and PostgreSQL
    (which creates each table in its schema: published, internal or staging).

    Other engines get the portable delete + insert (`models.build.replace_rows`, `pipeline.append_rows`).
    """

    def replace_rows(self, table: str, select: str, partition: str | None, interval: Interval | None) -> None: ...
    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None: ...


def open_engine(settings: Settings, read_only: bool = False) -> Engine:
    """The engine the settings name; a `postgresql://…` warehouse selects PostgreSQL (engine "duckdb" or "postgres")."""
    if settings.engine in ("duckdb", "postgres") and settings.warehouse.startswith(("postgresql://", "postgres://")):
        from cryptopulse.engines.postgres import PostgresEngine

        return PostgresEngine(settings, read_only=read_only)
    if settings.engine == "postgres":
        raise EngineError(f"engine postgres needs CRYPTOPULSE_WAREHOUSE=postgresql://user@host:port/db, got {settings.warehouse}")
    if settings.engine == "duckdb":
        from cryptopulse.engines.duckdb import DuckDBEngine

        return DuckDBEngine(settings, read_only=read_only)
    if settings.engine == "spark":
        from cryptopulse.engines.spark import SparkEngine

        return SparkEngine(settings, read_only=read_only)
    raise EngineError(f"unknown engine '{settings.engine}' (CRYPTOPULSE_ENGINE); this build supports: duckdb, postgres, spark")
