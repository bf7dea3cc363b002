"""The engine interface the pipeline steps use, and the factory that picks one from the settings."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from cryptopulse.config import Settings
from cryptopulse.lake import Lake

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
}


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
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None: ...
    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None: ...
    def close(self) -> None: ...


def open_engine(settings: Settings, read_only: bool = False) -> Engine:
    if settings.engine == "duckdb":
        from cryptopulse.engines.duckdb import DuckDBEngine

        return DuckDBEngine(settings, read_only=read_only)
    raise EngineError(f"unknown engine '{settings.engine}' (CRYPTOPULSE_ENGINE); this build supports: duckdb")
