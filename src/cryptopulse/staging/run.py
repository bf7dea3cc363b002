"""The stage step: coins, then prices and posts, for one interval (or everything in the raw zone)."""

from __future__ import annotations

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.coins import stage_coins
from cryptopulse.staging.common import StageResult
from cryptopulse.staging.posts import stage_posts
from cryptopulse.staging.prices import stage_prices


def stage(lake: Lake, interval: Interval | None, threads: int = 0) -> tuple[list[StageResult], Interval | None]:
    """Stage the raw zone for `interval` (None: all of it). Returns the results and the interval covered."""
    lake.require()
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        results = [stage_coins(lake, con)]
        results.append(stage_prices(lake, con, interval))
        results.append(stage_posts(lake, con, interval))
        covered = interval or _extent(con)
    finally:
        con.close()
    return results, covered


def _extent(con: duckdb.DuckDBPyConnection) -> Interval | None:
    """The days that received any record, when staging ran without an interval."""
    first, last = con.execute(
        "SELECT min(date), max(date) FROM (SELECT date FROM price_records UNION ALL SELECT date FROM post_records)"
    ).fetchone()
    if first is None:
        return None
    return Interval.covering(first, last)



