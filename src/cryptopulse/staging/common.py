"""Pieces every staging dataset shares: finding raw files for an interval and writing day-partitions atomically."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake

PARTITION_RE = re.compile(r"(?:date=(\d{4}-\d{2}-\d{2})|month=(\d{4}-\d{2}))")
STATS_FILE = "_stats.json"
# Bounds used when no interval is given: stage whatever the raw zone holds.
EVERYTHING = Interval(dt.date(1970, 1, 1), dt.date(2100, 1, 1))
QUARANTINE_FILE = "_quarantine.parquet"
QUARANTINE_COLUMNS = "dataset, date, source, raw_file, reason, record"


@dataclass
class StageResult:
    """What staging one dataset over one interval did: counts per outcome, summed over its days."""

    dataset: str
    received: int = 0
    staged: int = 0
    quarantined: int = 0
    duplicates: int = 0
    files_read: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def partition_overlaps(relpath: str, interval: Interval, margin_days: int = 1) -> bool:
    """True if the `date=`/`month=` partition in `relpath` overlaps the interval widened by the margin."""
    days = partition_days(relpath)
    if days is None:
        return True
    lo = interval.start - dt.timedelta(days=margin_days)
    hi = interval.end + dt.timedelta(days=margin_days)
    return days.start < hi and days.end > lo


def partition_days(relpath: str) -> Interval | None:
    """The days of the `date=` (one day) or `month=` (its whole month) partition in `relpath`; None without one."""
    m = PARTITION_RE.search(relpath)
    if not m:
        return None
    if m.group(1):
        return Interval.covering(dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(1)))
    first = dt.date.fromisoformat(m.group(2) + "-01")
    return Interval(first, (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1))


def raw_files(lake: Lake, pattern: str, interval: Interval | None) -> list[str]:
    """Lake-relative raw files matching `pattern` whose partition overlaps `interval` (all when None)."""
    found = lake.glob(pattern)
    return [f for f in found if interval is None or partition_overlaps(f, interval)]


def partition_dir(dataset: str, day: dt.date) -> str:
    return f"staged/{dataset}/date={day.isoformat()}"


def write_partitions(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    relation: str,
    order_by: str,
    days: list[dt.date],
    fmt: str,
    quarantine: str,
    stats: dict[dt.date, dict[str, object]],
) -> None:
    """Write `relation` (with a `date` column) as one file per day, plus its quarantine and stats files.

    Each day's files are replaced atomically; a day with no rows loses any stale data file, so
    restaging a day always leaves exactly what this run produced.
    """
    ext = "csv" if fmt == "csv" else "parquet"
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    tmp = Path(tempfile.mkdtemp(prefix=f"cryptopulse-stage-{dataset}-"))
    try:
        con.execute(
            f"COPY (SELECT * FROM {relation} ORDER BY {order_by}) TO '{tmp / 'data'}' "
            f"({options}, PARTITION_BY (date), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE true)"
        )
        con.execute(
            f"COPY (SELECT * FROM {quarantine} ORDER BY raw_file, reason, record) TO '{tmp / 'quarantine'}' "
            f"(FORMAT parquet, PARTITION_BY (date), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'q-{{i}}', OVERWRITE_OR_IGNORE true)"
        )
        for day in days:
            target = partition_dir(dataset, day)
            _replace_single(lake, tmp / "data" / f"date={day}", f"{target}/part-0.{ext}")
            _replace_single(lake, tmp / "quarantine" / f"date={day}", f"{target}/{QUARANTINE_FILE}")
            lake.write_bytes(f"{target}/{STATS_FILE}", json.dumps(stats.get(day, _zero(dataset, day))).encode())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _zero(dataset: str, day: dt.date) -> dict[str, object]:
    return {"dataset": dataset, "date": day.isoformat(), "received": 0, "staged": 0, "quarantined": 0, "duplicates": 0}


def _replace_single(lake: Lake, local_dir: Path, target: str) -> None:
    files = sorted(local_dir.glob("*")) if local_dir.exists() else []
    if len(files) > 1:
        raise RuntimeError(f"expected one file per partition in {local_dir}, found {len(files)}")
    if not files:
        lake.remove(target)
        return
    with lake.writing(target) as out:
        shutil.move(files[0], out)


def collect_stats(
    con: duckdb.DuckDBPyConnection, dataset: str, records: str, staged: str, quarantine: str, duplicates: str
) -> tuple[dict[dt.date, dict[str, object]], dict[str, int]]:
    """Per-day counts of each outcome, each counted on its own relation, and the quarantine reasons.

    Nothing is derived by subtraction, so `received = staged + quarantined + duplicates` is a real
    check (the reconciliation gate asserts it against what the warehouse loaded).
    """
    rows = con.execute(
        f"""
        WITH r AS (SELECT date, count(*) AS n FROM {records} GROUP BY date),
             s AS (SELECT date, count(*) AS n FROM {staged} GROUP BY date),
             q AS (SELECT date, count(*) AS n FROM {quarantine} GROUP BY date),
             d AS (SELECT date, count(*) AS n FROM {duplicates} GROUP BY date)
        SELECT r.date, r.n, coalesce(s.n, 0), coalesce(q.n, 0), coalesce(d.n, 0)
        FROM r LEFT JOIN s USING (date) LEFT JOIN q USING (date) LEFT JOIN d USING (date)
        ORDER BY r.date
        """
    ).fetchall()
    stats = {
        day: {
            "dataset": dataset,
            "date": day.isoformat(),
            "received": received,
            "staged": n_staged,
            "quarantined": n_quarantined,
            "duplicates": n_duplicates,
        }
        for day, received, n_staged, n_quarantined, n_duplicates in rows
    }
    reasons = dict(con.execute(f"SELECT reason, count(*) FROM {quarantine} GROUP BY reason ORDER BY reason").fetchall())
    return stats, reasons


def summarize(dataset: str, stats: dict[dt.date, dict[str, object]], reasons: dict[str, int], files: int) -> StageResult:
    result = StageResult(dataset=dataset, files_read=files, reasons=reasons)
    for s in stats.values():
        result.received += int(s["received"])
        result.staged += int(s["staged"])
        result.quarantined += int(s["quarantined"])
        result.duplicates += int(s["duplicates"])
    return result


def sql_list(paths: list[str]) -> str:
    """A DuckDB list literal of quoted paths."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def relative_path_sql(lake: Lake, column: str = "filename") -> str:
    """SQL turning an absolute file name from DuckDB's `filename` column into a lake-relative path."""
    prefix = lake.uri().rstrip("/") + "/"
    return f"substr({column}, {len(prefix) + 1})"


def staged_extent(lake: Lake) -> Interval | None:
    """The interval from the first to the last staged day partition (None when nothing is staged)."""
    days = sorted(
        dt.date.fromisoformat(m.group(1))
        for p in lake.fs.glob(lake.path("staged/*/date=*"))
        if (m := PARTITION_RE.search(p)) and m.group(1)
    )
    return Interval.covering(days[0], days[-1]) if days else None


def load_tolerant(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: str, files: list[str], select_for: Callable[[list[str]], str], empty: str
) -> None:
    """Create temp table `table` from `select_for(uris)` over the readable files; list the others in `{table}_unreadable`.

    A corrupt or truncated raw file must not stop the run nor vanish: it is quarantined as a whole,
    with DuckDB's error, under the day (or month) of its partition.
    """
    bad: list[tuple[str, str]] = []
    good = list(files)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select_for([lake.uri(f) for f in good]) if good else empty}")
    except duckdb.Error:
        good = []
        for f in files:
            try:
                con.execute(f"SELECT count(*) FROM ({select_for([lake.uri(f)])})").fetchone()
                good.append(f)
            except duckdb.Error as e:
                bad.append((f, str(e).splitlines()[0][:300]))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select_for([lake.uri(f) for f in good]) if good else empty}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_unreadable (raw_file VARCHAR, date DATE, reason VARCHAR, record VARCHAR)")
    for f, message in bad:
        m = PARTITION_RE.search(f)
        day = (m.group(1) or (m.group(2) + "-01")) if m else None
        con.execute(f"INSERT INTO {table}_unreadable VALUES (?, ?, 'unreadable_file', ?)", [f, day, message])


def split_duplicates(con: duckdb.DuckDBPyConnection, records: str, key: str, newest_first: str) -> None:
    """Create `{records}_losers(rid, date)`: the good records that another copy of the same key supersedes.

    `key` identifies a record (e.g. `source, post_id`); among copies, the first by `newest_first` wins.
    Only keys seen more than once are ranked, so the cost follows the duplicates, not the table.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {records}_losers AS
        WITH repeated AS (
            SELECT {key} FROM {records} WHERE reason IS NULL GROUP BY {key} HAVING count(*) > 1
        ),
        ranked AS (
            SELECT r.rowid AS rid, r.date, row_number() OVER (PARTITION BY {", ".join("r." + k.strip() for k in key.split(","))}
                                                             ORDER BY {newest_first}) AS copy_no
            FROM {records} AS r SEMI JOIN repeated USING ({key})
            WHERE r.reason IS NULL
        )
        SELECT rid, date FROM ranked WHERE copy_no > 1
        """
    )


@dataclass(frozen=True)
class RawShape:
    """One shape of raw file a dataset reads: where such files are and how to load them into `table`.

    Files that cannot be read land in `{table}_unreadable` (see `load_tolerant`).
    """

    raw_pattern: str
    table: str
    select_for: Callable[[Lake, list[str]], str]
    empty: str


@dataclass(frozen=True)
class Dataset:
    """How one staged dataset is made from one or more raw shapes; `read` and `write` do the rest.

    `prefix` names the temp relations its `classify` creates: `{prefix}_records` (every record of the
    interval with its `reason`, NULL when good), `{prefix}_staged`, `{prefix}_quarantine`, `{prefix}_duplicates`.
    """

    name: str
    shapes: tuple[RawShape, ...]
    prefix: str
    classify: Callable[[duckdb.DuckDBPyConnection, Interval], None]
    order_by: str
    fmt: str


def read(lake: Lake, con: duckdb.DuckDBPyConnection, ds: Dataset, interval: Interval | None) -> int:
    """Load and classify every raw record of `ds` whose day falls in `interval`; return the files read."""
    files_read = 0
    for shape in ds.shapes:
        files = raw_files(lake, shape.raw_pattern, interval)
        load_tolerant(con, lake, shape.table, files, lambda uris, shape=shape: shape.select_for(lake, uris), shape.empty)
        files_read += len(files)
    ds.classify(con, interval or EVERYTHING)
    return files_read


def write(lake: Lake, con: duckdb.DuckDBPyConnection, ds: Dataset, days: list[dt.date], files_read: int) -> StageResult:
    """Write the classified records of `days` to the staged zone; return the per-outcome counts."""
    p = ds.prefix
    stats, reasons = collect_stats(con, ds.name, f"{p}_records", f"{p}_staged", f"{p}_quarantine", f"{p}_duplicates")
    write_partitions(lake, con, ds.name, f"{p}_staged", ds.order_by, days, ds.fmt, f"{p}_quarantine", stats)
    return summarize(ds.name, stats, reasons, files_read)
