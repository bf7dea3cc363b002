"""The stage step: coins, then prices and posts, for one interval (or everything in the raw zone)."""

from __future__ import annotations

import datetime as dt

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.coins import stage_coins
from cryptopulse.staging.common import StageResult, read, write
from cryptopulse.staging.loading import GENESIS, Window, file_partition, raw_files
from cryptopulse.staging.posts import POSTS
from cryptopulse.staging.prices import PRICES


def stage(
    lake: Lake,
    interval: Interval | None,
    threads: int = 0,
    memory_limit: str = "",
    temp_directory: str = "",
    plausible_since: dt.date = GENESIS,
) -> tuple[list[StageResult], Interval | None]:
    """Stage the raw zone for `interval` (None: all of it). Returns the results and the interval covered.

    Without an interval, the covered interval runs from the first to the last day of any record, good
    or malformed, so nothing received falls outside it; both datasets write a partition (possibly
    empty, with zero counts) for every one of its days, which the staged-coverage gate relies on.
    Timestamps before `plausible_since` or after the day after the run are quarantined and place nothing.
    `memory_limit`/`temp_directory` bound DuckDB's memory (it spills the rest to disk), as in the engine.
    Temporary files a killed run left in the lake's scratch folder are removed first.
    """
    lake.require()
    lake.remove_stale_scratch()
    window = Window.until_tomorrow(plausible_since)
    settings = {"threads": threads, "memory_limit": memory_limit, "temp_directory": temp_directory}
    con = duckdb.connect(config={k: v for k, v in settings.items() if v})  # bounded memory: spill to temp_directory
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    if not lake.is_local:
        con.register_filesystem(lake.fs)  # DuckDB reads s3:// through s3fs (no httpfs extension offline)
    try:
        coins = stage_coins(lake, con)
        files_read = {ds.name: read(lake, con, ds, interval, window) for ds in (PRICES, POSTS)}
        covered = interval or _extent(con)
        if covered is None:
            return [coins], None
        results = [coins, *(write(lake, con, ds, covered, files_read[ds.name]) for ds in (PRICES, POSTS))]
    finally:
        con.close()
    return results, covered


def _extent(con: duckdb.DuckDBPyConnection) -> Interval | None:
    """The days from the first to the last record received (None when the raw zone holds none)."""
    first, last = con.execute(
        "SELECT min(date), max(date) FROM (SELECT date FROM price_records UNION ALL SELECT date FROM post_records)"
    ).fetchone()
    if first is None:
        return None
    return Interval.covering(first, last)


def raw_extent(lake: Lake, plausible_since: dt.date = GENESIS) -> Interval | None:
    """The days from the first to the last record of the raw zone, found without reading all of it: the
    `date=`/`month=` partitions of the price and post files bound it, then the records of its first and last
    31 days make it exact. None when there are no raw files, or when one has no partition in its path (then only
    a whole run knows its days)."""
    window = Window.until_tomorrow(plausible_since)
    coarse = _partition_extent(lake, window)
    if coarse is None:
        return None
    span = dt.timedelta(days=31)
    head = Interval(coarse.start, min(coarse.start + span, coarse.end))
    tail = Interval(max(coarse.end - span, coarse.start), coarse.end)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not lake.is_local:
            con.register_filesystem(lake.fs)
        stage_coins(lake, con, write=False)  # prices are classified against the coin list
        ends = []
        for part in (head, tail):
            for ds in (PRICES, POSTS):
                read(lake, con, ds, part, window)
            ends.append(_extent(con) or part)
    finally:
        con.close()
    return Interval(ends[0].start, ends[1].end)


def _partition_extent(lake: Lake, window: Window) -> Interval | None:
    """The days the raw files' partitions cover (a month partition: its whole month)."""
    first, after = None, None
    for shape in (*PRICES.shapes, *POSTS.shapes):
        for relpath in raw_files(lake, shape.raw_pattern, None, window):
            days = file_partition(relpath, window)
            if days is None:
                return None
            first = days.start if first is None else min(first, days.start)
            after = days.end if after is None else max(after, days.end)
    return Interval(first, after) if first is not None else None
