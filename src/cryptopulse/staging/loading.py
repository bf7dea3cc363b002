"""Raw files for staging: which ones an interval needs, the days their partitions cover, loading them so none can stop a run."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake

PARTITION_RE = re.compile(r"(?:date=(\d{4}-\d{2}-\d{2})|month=(\d{4}-\d{2}))")
# A raw file pattern with a partition level: (folders above, `date=*` or `month=*`, what lies below).
PARTITION_GLOB_RE = re.compile(r"^(.*/)((?:date|month)=\*)(/.*)$")
# The first Bitcoin block: no crypto record is older (the default of Settings.plausible_since).
GENESIS = dt.date(2009, 1, 3)
# Days a record may lie beyond its file's partition (records that straddle midnight).
MARGIN_DAYS = 1


@dataclass(frozen=True)
class Window:
    """The days a record's timestamp may plausibly fall on: `earliest` ≤ day < `latest` (UTC).

    Anything outside is quarantined `timestamp_out_of_range` and never widens a run."""

    earliest: dt.date
    latest: dt.date

    @classmethod
    def until_tomorrow(cls, earliest: dt.date = GENESIS, now: dt.datetime | None = None) -> Window:
        """From `earliest` to the end of the day after the run (`now`, UTC): the run's end + 1 day, in whole days."""
        today = (now or dt.datetime.now(dt.UTC)).date()
        return cls(earliest, max(today + dt.timedelta(days=2), earliest + dt.timedelta(days=1)))

    def holds(self, days: Interval) -> bool:
        return self.earliest <= days.start and days.end <= self.latest

    def sql(self, ts: str) -> str:
        """SQL: TIMESTAMP expression `ts` lies in the window."""
        return f"({ts} >= TIMESTAMP '{self.earliest}' AND {ts} < TIMESTAMP '{self.latest}')"


def partition_days(relpath: str) -> Interval | None:
    """The days of the `date=` (one day) or `month=` (its whole month) partition in `relpath`; None without a valid one."""
    m = PARTITION_RE.search(relpath)
    try:
        if not m:
            return None
        if m.group(1):
            day = dt.date.fromisoformat(m.group(1))
            return Interval.covering(day, day)
        first = dt.date.fromisoformat(m.group(2) + "-01")
    except ValueError:  # date=2024-13-45: no day at all
        return None
    return Interval(first, (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1))


def file_partition(relpath: str, window: Window) -> Interval | None:
    """The partition days of a raw file, if it has a valid one inside the window (None: the file's records place themselves)."""
    days = partition_days(relpath)
    return days if days is not None and window.holds(days) else None


def partition_overlaps(relpath: str, interval: Interval, window: Window) -> bool:
    """True if the file's partition overlaps the interval widened by the margin, or if it has no usable partition
    (then any run may hold its records, so every run reads it)."""
    days = file_partition(relpath, window)
    if days is None:
        return True
    margin = dt.timedelta(days=MARGIN_DAYS)
    return days.start < interval.end + margin and days.end > interval.start - margin


def raw_files(lake: Lake, pattern: str, interval: Interval | None, window: Window) -> list[str]:
    """Lake-relative raw files matching `pattern` that `interval` needs (all when None).

    With an interval, the partition folders (`…/date=*`) are listed first and only those the interval needs (or
    whose name is no valid partition) are listed further: a day's run lists a few folders, not the whole history.
    """
    m = PARTITION_GLOB_RE.match(pattern)
    if interval is None or not m:
        return [f for f in lake.glob(pattern) if interval is None or partition_overlaps(f, interval, window)]
    head, partition, tail = m.groups()
    folders = [d for d in lake.glob(head + partition) if partition_overlaps(d + "/", interval, window)]
    return sorted(f for folder in folders for f in lake.glob(folder + tail))


def register_files(con: duckdb.DuckDBPyConnection, table: str, files: list[str], window: Window) -> None:
    """Temp table `{table}_files(raw_file, part_start, part_end)`: each file's usable partition (NULLs without one)."""
    parts = [file_partition(f, window) for f in files]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_files AS SELECT unnest(?::VARCHAR[]) AS raw_file, "
        "unnest(?::DATE[]) AS part_start, unnest(?::DATE[]) AS part_end",
        [files, [p.start if p else None for p in parts], [p.end if p else None for p in parts]],
    )


def load_tolerant(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: str, files: list[str], select_for: Callable[[list[str]], str], empty: str
) -> None:
    """Create temp table `table` from `select_for(uris)` over the readable files; list the others in `{table}_unreadable`.

    `select_for` must not fail on any value inside a file (records are judged later); what still fails is a file
    that cannot be read at all (corrupt gzip, a folder in its place): it is loaded alone, and if that fails it is
    listed with the reader's error, to be quarantined whole.
    """
    bad: list[tuple[str, str]] = []
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select_for([lake.uri(f) for f in files]) if files else empty}")
    except duckdb.Error:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {empty}")
        for f in files:
            try:
                con.execute(f"INSERT INTO {table} {select_for([lake.uri(f)])}")
            except duckdb.Error as e:
                bad.append((f, str(e).splitlines()[0][:300]))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_unreadable AS "
        "SELECT unnest(?::VARCHAR[]) AS raw_file, 'unreadable_file' AS reason, unnest(?::VARCHAR[]) AS record",
        [[f for f, _ in bad], [m for _, m in bad]],
    )
