"""The zones the models read, defined once: the staged zone (what staging wrote) and the enriched zone (the posts'
sentiment scores and bot/spam flags, written by `cryptopulse enrich`): their datasets, files and columns, the
relations an engine exposes to the models, and the seeds. Every engine, `sql-render` and the model registry read this.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

from cryptopulse.lake import Lake, LakeError

STAGED, ENRICHED = "staged", "enriched"  # lake zones: what staging wrote; what `enrich` computed from it
COINS_FILE = "staged/coins/part-0.parquet"
STATS_FILE = "_stats.json"
QUARANTINE_FILE = "_quarantine.parquet"

# Columns (DuckDB types) of every relation an engine exposes from the staged and enriched zones.
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
    "enriched_post_sentiment": (
        "post_id VARCHAR, source VARCHAR, compound DOUBLE, pos DOUBLE, neu DOUBLE, neg DOUBLE, is_copy_storm BOOLEAN, "
        "is_high_rate BOOLEAN, is_spam_pattern BOOLEAN, lexicon_version VARCHAR, date DATE"
    ),
    "stg_quarantine": "dataset VARCHAR, date DATE, source VARCHAR, raw_file VARCHAR, reason VARCHAR, record VARCHAR",
    "stg_stats": "dataset VARCHAR, date DATE, received BIGINT, staged BIGINT, quarantined BIGINT, duplicates BIGINT",
}


class DayDataset(NamedTuple):
    """A day-partitioned dataset: one file per day, `<zone>/<folder>/date=YYYY-MM-DD/<file>`."""

    zone: str
    folder: str
    file: str

    def day_file(self, day: dt.date, name: str | None = None) -> str:
        """The dataset's file of `day` (or the file called `name` beside it)."""
        return f"{partition_dir(self.folder, day, self.zone)}/{name or self.file}"


# Day-partitioned datasets: relation → where its files are.
DAY_DATASETS = {
    "stg_coin_hourly": DayDataset(STAGED, "coin_hourly", "part-0.csv"),
    "stg_posts": DayDataset(STAGED, "posts", "part-0.parquet"),
    "enriched_post_sentiment": DayDataset(ENRICHED, "post_sentiment", "part-0.parquet"),  # by `cryptopulse enrich`
}
# Side files beside each day of every staged dataset: relation → file name.
SIDE_FILES = {"stg_quarantine": QUARANTINE_FILE, "stg_stats": STATS_FILE}
# The relations the models read (the side files go to the quarantine and staging_stats tables).
MODEL_INPUTS = ("stg_coins", *DAY_DATASETS)
# Where `enrich` wrote the scores before they had a zone of their own (`move_legacy_sentiment` moves them once).
LEGACY_SENTIMENT = f"{STAGED}/post_sentiment"


class LegacySentiment(LakeError):
    """Scores still in the staged zone, where an older `enrich` wrote them."""


@dataclass(frozen=True)
class StagedRelation:
    """One relation an engine exposes: its name, its lake-relative files and their format (csv, json or parquet)."""

    name: str
    files: tuple[str, ...]
    fmt: str

    @property
    def columns(self) -> str:
        return STAGED_COLUMNS[self.name]


# Up to this many days, a day's files are looked up one by one rather than found by listing the whole dataset.
LOOKUP_DAYS = 31


def partition_dir(folder: str, day: dt.date, zone: str = STAGED) -> str:
    return f"{zone}/{folder}/date={day.isoformat()}"


def day_files(lake: Lake, dataset: DayDataset, days: list[dt.date] | None, name: str | None = None) -> list[str]:
    """Lake-relative files of `dataset` (or the files called `name` beside them) for `days` (None: every day) that exist.

    A few days are looked up file by file; more are found by listing the dataset once (one listing of an object
    store, where a lookup per file would be a request each)."""
    if days is not None and len(days) <= LOOKUP_DAYS:
        return sorted(f for f in {dataset.day_file(d, name) for d in days} if lake.exists(f))
    existing = sorted(lake.relative(p) for p in lake.fs.glob(lake.path(f"{dataset.zone}/{dataset.folder}/date=*/{name or dataset.file}")))
    if days is None:
        return existing
    wanted = {dataset.day_file(d, name) for d in days}
    return [f for f in existing if f in wanted]


def staged_relations(lake: Lake | None, days: list[dt.date] | None) -> list[StagedRelation]:
    """Every relation the models read, with its files for `days` (None: every day): those in `lake`, or, without a
    lake, every file the days can have (a script written for a lake this process cannot list)."""

    def files(dataset: DayDataset, name: str | None = None) -> list[str]:
        if lake is not None:
            return day_files(lake, dataset, days, name)
        if days is None:
            raise ValueError("the staged files of every day need the lake to list them")
        return [dataset.day_file(d, name) for d in days]

    if lake is not None and lake.exists(LEGACY_SENTIMENT):
        raise LegacySentiment(
            f"sentiment scores in {lake.uri(LEGACY_SENTIMENT)}, where an older `enrich` wrote them: run "
            f"`cryptopulse enrich` once to move them to {ENRICHED}/post_sentiment/ (nothing is rescored)"
        )
    coins = [COINS_FILE] if lake is None or lake.exists(COINS_FILE) else []
    relations = [StagedRelation("stg_coins", tuple(coins), "parquet")]
    relations += [StagedRelation(r, tuple(files(ds)), _format(ds.file)) for r, ds in DAY_DATASETS.items()]
    for relation, name in SIDE_FILES.items():
        side = [f for ds in DAY_DATASETS.values() if ds.zone == STAGED for f in files(ds, name)]
        relations.append(StagedRelation(relation, tuple(side), _format(name)))
    return relations


def move_legacy_sentiment(lake: Lake) -> int:
    """Move the scores an older `enrich` wrote into the staged zone to the enriched zone; return how many day files moved.

    Each file is moved whole and the old folder removed last, so a rerun after a kill moves the rest."""
    if not lake.exists(LEGACY_SENTIMENT):
        return 0
    target = DAY_DATASETS["enriched_post_sentiment"]
    old = day_files(lake, target._replace(zone=STAGED), None)
    for path in old:
        lake.move(path, f"{target.zone}/{path.removeprefix(f'{STAGED}/')}")
    lake.remove(LEGACY_SENTIMENT, recursive=True)
    return len(old)


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
