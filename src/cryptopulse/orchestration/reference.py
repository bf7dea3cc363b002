"""Offline ingest: land the synthetic reference dataset's raw files for an interval, as its sources would have delivered them.

The reference lake is generated once (`cryptopulse.sources.synthetic.generate`); each offline ingest task copies the
files of its interval from there into the pipeline's lake under the same paths, so the data stays marked `synthetic`,
planted faults included. Copies go through `Lake.write_bytes`, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import logging

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.sources.synthetic import generate
from cryptopulse.sources.synthetic.generator import CHART_DIR, POSTS_DIR, ROOT

log = logging.getLogger("cryptopulse.orchestration.reference")
MANIFEST = f"{ROOT}/manifest.json"
CATALOG_FILES = (f"{ROOT}/coingecko/coins_list.json", f"{ROOT}/coingecko/coins_markets.json")


def ensure_reference(reference: Lake, scale: float, seed: int) -> None:
    """Generate the reference dataset into `reference` unless it holds one already."""
    if reference.exists(MANIFEST):
        return
    log.info("generating the synthetic reference dataset (scale %s, seed %s) in %s", scale, seed, reference.uri())
    generate(reference, scale=scale, seed=seed)


def land_catalog(lake: Lake, reference: Lake) -> list[str]:
    """Copy the coin list and markets; return the tracked coin ids in rank order."""
    _copy(lake, reference, list(CATALOG_FILES))
    markets = json.loads(reference.read_bytes(CATALOG_FILES[1]))
    return [row["id"] for row in markets]


def land_charts(lake: Lake, reference: Lake, coin_id: str, interval: Interval) -> list[str]:
    """Copy the coin's monthly market charts for the months the interval touches."""
    wanted = [f"{CHART_DIR}/month={month}/{coin_id}.json.gz" for month in interval.months()]
    return _copy(lake, reference, [f for f in wanted if reference.exists(f)])


def land_posts(lake: Lake, reference: Lake, interval: Interval) -> list[str]:
    """Copy the post pages of each day of the interval."""
    return _copy(lake, reference, [f for day in interval.days() for f in reference.glob(f"{POSTS_DIR}/date={day}/*")])


def _copy(lake: Lake, reference: Lake, files: list[str]) -> list[str]:
    for relpath in files:
        lake.write_bytes(relpath, reference.read_bytes(relpath))
    return files
