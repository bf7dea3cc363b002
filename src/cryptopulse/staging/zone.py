"""The staged zone, defined once: its datasets, files and columns, the relations an engine exposes to the models, and
the seeds. Staging writes it; every engine, `sql-render` and the model registry read this definition of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources

from cryptopulse.lake import Lake

COINS_FILE = "staged/coins/part-0.parquet"
STATS_FILE = "_stats.json"
QUARANTINE_FILE = "_quarantine.parquet"

# Columns (DuckDB types) of every relation an engine exposes from the staged zone.
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
    "stg_post_sentiment": (
        "post_id VARCHAR, source VARCHAR, compound DOUBLE, pos DOUBLE, neu DOUBLE, neg DOUBLE, is_copy_storm BOOLEAN, "
        "is_high_rate BOOLEAN, is_spam_pattern BOOLEAN, lexicon_version VARCHAR, date DATE"
    ),
    "stg_quarantine": "dataset VARCHAR, date DATE, source VARCHAR, raw_file VARCHAR, reason VARCHAR, record VARCHAR",
    "stg_stats": "dataset VARCHAR, date DATE, received BIGINT, staged BIGINT, quarantined BIGINT, duplicates BIGINT",
}

# Day-partitioned datasets: relation → (dataset folder, file name per day). post_sentiment is written by `enrich`.
DAY_DATASETS = {
    "stg_coin_hourly": ("coin_hourly", "part-0.csv"),
    "stg_posts": ("posts", "part-0.parquet"),
    "stg_post_sentiment": ("post_sentiment", "part-0.parquet"),
}
# Side files beside each day of every day-partitioned dataset: relation → file name.
SIDE_FILES = {"stg_quarantine": QUARANTINE_FILE, "stg_stats": STATS_FILE}
# The staged relations the models read (the side files go to the quarantine and staging_stats tables).
MODEL_INPUTS = ("stg_coins", *DAY_DATASETS)


@dataclass(frozen=True)
class StagedRelation:
    """One relation an engine exposes: its name, its lake-relative files and their format (csv, json or parquet)."""

    name: str
    files: tuple[str, ...]
    fmt: str

    @property
    def columns(self) -> str:
        return STAGED_COLUMNS[self.name]


def partition_dir(dataset: str, day: dt.date) -> str:
    return f"staged/{dataset}/date={day.isoformat()}"


def staged_files(lake: Lake, dataset: str, days: list[dt.date] | None, name: str) -> list[str]:
    """Lake-relative staged files called `name` of `dataset` for `days` (None: every staged day) that exist."""
    existing = sorted(lake.relative(p) for p in lake.fs.glob(lake.path(f"staged/{dataset}/date=*/{name}")))
    if days is None:
        return existing
    wanted = {f"{partition_dir(dataset, d)}/{name}" for d in days}
    return [f for f in existing if f in wanted]


def staged_relations(lake: Lake | None, days: list[dt.date] | None) -> list[StagedRelation]:
    """Every staged relation with its files for `days` (None: every staged day): those in `lake`, or, without a lake,
    every file the days can have (a script written for a lake this process cannot list)."""

    def files(dataset: str, name: str) -> list[str]:
        if lake is not None:
            return staged_files(lake, dataset, days, name)
        if days is None:
            raise ValueError("the staged files of every day need the lake to list them")
        return [f"{partition_dir(dataset, d)}/{name}" for d in days]

    coins = [COINS_FILE] if lake is None or lake.exists(COINS_FILE) else []
    relations = [StagedRelation("stg_coins", tuple(coins), "parquet")]
    relations += [StagedRelation(r, tuple(files(ds, name)), _format(name)) for r, (ds, name) in DAY_DATASETS.items()]
    for relation, name in SIDE_FILES.items():
        side = [f for ds, _ in DAY_DATASETS.values() for f in files(ds, name)]
        relations.append(StagedRelation(relation, tuple(side), _format(name)))
    return relations


def _format(name: str) -> str:
    return name.rsplit(".", 1)[1]


@functools.cache
def seeds() -> dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    """Every seed table (`seed_<file>`), from the CSV files shipped beside the models: its header and rows, as text."""
    tables = {}
    for seed in sorted(resources.files("cryptopulse.models").joinpath("seeds").iterdir(), key=lambda p: p.name):
        if seed.name.endswith(".csv"):
            header, *rows = csv.reader(seed.read_text(encoding="utf-8").splitlines())
            tables["seed_" + seed.name.removesuffix(".csv")] = (tuple(header), tuple(map(tuple, rows)))
    return tables
