"""What every staged dataset shares: reading and judging its raw records, then writing day-partitions whose counts add up."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.loading import Window, load_tolerant, partition_days, raw_files, register_files
from cryptopulse.staging.zone import QUARANTINE_FILE, STATS_FILE, partition_dir

# Records no day can hold (a file without a usable partition whose records carry no usable timestamp either).
UNDATED_FILE = "_undated_quarantine.parquet"


@dataclass
class StageResult:
    """What staging one dataset over one interval did: counts per outcome, summed over its days.

    `received = staged + duplicates + quarantined` holds when nothing was lost (each is counted on its own)."""

    dataset: str
    received: int = 0
    staged: int = 0
    quarantined: int = 0
    duplicates: int = 0
    files_read: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RawShape:
    """One shape of raw file a dataset reads: where such files are and how to load them into `table`.

    `count_sql` selects `(raw_file, n)` from `table`: the records each file holds, counted from its structure
    alone, before any record is judged. Files that cannot be read land in `{table}_unreadable`, and every
    file's partition in `{table}_files` (see `loading`).
    """

    raw_pattern: str
    table: str
    select_for: Callable[[Lake, list[str]], str]
    empty: str
    count_sql: str


@dataclass(frozen=True)
class Dataset:
    """How one staged dataset is made from one or more raw shapes; `read` and `write` do the rest.

    `classify(con, window)` creates `{prefix}_records`: every record of the files read, once, with `raw_file`,
    its `date` (NULL when no day can hold it), `reason` (NULL when good), `record` (the raw record when
    rejected) and the `staged_columns`. Among good records with the same `key`, the first by `newest_first`
    is staged and the others are duplicates.
    """

    name: str
    shapes: tuple[RawShape, ...]
    prefix: str
    classify: Callable[[duckdb.DuckDBPyConnection, Window], None]
    staged_columns: str
    key: str
    newest_first: str
    order_by: str
    fmt: str


def read(lake: Lake, con: duckdb.DuckDBPyConnection, ds: Dataset, interval: Interval | None, window: Window) -> int:
    """Load and judge every raw record of `ds` in the files `interval` needs (all when None); return the files read."""
    files_read = 0
    for shape in ds.shapes:
        files = raw_files(lake, shape.raw_pattern, interval, window)
        register_files(con, shape.table, files, window)
        load_tolerant(con, lake, shape.table, files, lambda uris, shape=shape: shape.select_for(lake, uris), shape.empty)
        files_read += len(files)
    ds.classify(con, window)
    _count_unaccounted(con, ds)
    return files_read


def files_sql(ds: Dataset) -> str:
    """Every file read for `ds`, with its partition: `(raw_file, part_start, part_end)`."""
    return " UNION ALL ".join(f"SELECT * FROM {s.table}_files" for s in ds.shapes)


def unreadable_sql(ds: Dataset) -> str:
    """Every file of `ds` that could not be read: `(raw_file, reason, record)`."""
    return " UNION ALL ".join(f"SELECT * FROM {s.table}_unreadable" for s in ds.shapes)


def _count_unaccounted(con: duckdb.DuckDBPyConnection, ds: Dataset) -> None:
    """`{prefix}_unaccounted(date, n)`: per file, records its structure holds minus records judged, under the file's
    partition day. Zero everywhere unless staging loses (or invents) records; the counts then cannot add up."""
    held = " UNION ALL ".join(
        [*(s.count_sql for s in ds.shapes), *(f"SELECT raw_file, 1 AS n FROM {s.table}_unreadable" for s in ds.shapes)]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ds.prefix}_unaccounted AS
        WITH held AS (SELECT raw_file, sum(n) AS n FROM ({held}) GROUP BY raw_file),
             judged AS (SELECT raw_file, count(*) AS n FROM {ds.prefix}_records GROUP BY raw_file)
        SELECT f.part_start AS date, sum(coalesce(h.n, 0) - coalesce(j.n, 0)) AS n
        FROM held AS h FULL JOIN judged AS j USING (raw_file) LEFT JOIN ({files_sql(ds)}) AS f USING (raw_file)
        WHERE coalesce(h.n, 0) <> coalesce(j.n, 0)
        GROUP BY f.part_start
        """
    )


def write(lake: Lake, con: duckdb.DuckDBPyConnection, ds: Dataset, interval: Interval, files_read: int) -> StageResult:
    """Write the judged records of the interval's days to the staged zone; return the per-outcome counts."""
    _split(con, ds, interval)
    p = ds.prefix
    stats = collect_stats(con, ds, interval)
    write_partitions(lake, con, ds.name, f"{p}_staged", ds.order_by, interval.days(), ds.fmt, f"{p}_quarantine", stats)
    undated = _write_undated(lake, con, ds)
    reasons = dict(
        con.execute(
            f"SELECT reason, count(*) FROM (SELECT reason FROM {p}_quarantine UNION ALL SELECT reason FROM {p}_undated) "
            "GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    result = StageResult(dataset=ds.name, files_read=files_read, reasons=reasons, received=undated, quarantined=undated)
    for s in stats.values():
        result.received += int(s["received"])
        result.staged += int(s["staged"])
        result.quarantined += int(s["quarantined"])
        result.duplicates += int(s["duplicates"])
    return result


def _split(con: duckdb.DuckDBPyConnection, ds: Dataset, interval: Interval) -> None:
    """The outcome relations of the interval's records: `{prefix}_staged`, `_duplicates`, `_quarantine`, and `_undated`."""
    p, days = ds.prefix, days_sql("date", interval)
    split_duplicates(con, f"{p}_records", ds.key, ds.newest_first, interval)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {p}_staged AS
        SELECT {ds.staged_columns} FROM {p}_records
        WHERE reason IS NULL AND {days} AND rowid NOT IN (SELECT rid FROM {p}_records_losers)
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {p}_duplicates AS SELECT date FROM {p}_records_losers")
    rejected = (
        f"SELECT '{ds.name}' AS dataset, date, regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source, raw_file, reason, record "
        f"FROM {p}_records WHERE reason IS NOT NULL"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {p}_quarantine AS {rejected} AND {days}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {p}_undated AS {rejected} AND date IS NULL")


def split_duplicates(con: duckdb.DuckDBPyConnection, records: str, key: str, newest_first: str, interval: Interval) -> None:
    """Create `{records}_losers(rid, date)`: the good records of the interval that another copy of the same key supersedes.

    `key` identifies a record (e.g. `source, post_id`); among copies, the first by `newest_first` wins.
    Only keys seen more than once are ranked, so the cost follows the duplicates, not the table.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {records}_losers AS
        WITH repeated AS (
            SELECT {key} FROM {records} WHERE reason IS NULL AND {days_sql("date", interval)} GROUP BY {key} HAVING count(*) > 1
        ),
        ranked AS (
            SELECT r.rowid AS rid, r.date, row_number() OVER (PARTITION BY {", ".join("r." + k.strip() for k in key.split(","))}
                                                             ORDER BY {newest_first}) AS copy_no
            FROM {records} AS r SEMI JOIN repeated USING ({key})
            WHERE r.reason IS NULL AND {days_sql("r.date", interval)}
        )
        SELECT rid, date FROM ranked WHERE copy_no > 1
        """
    )


def collect_stats(con: duckdb.DuckDBPyConnection, ds: Dataset, interval: Interval) -> dict[dt.date, dict[str, object]]:
    """Per-day counts of each outcome, each counted on its own relation (`received` from the records judged plus any
    the files held that were not judged), for every day of the interval.

    Nothing is derived by subtraction, so `received = staged + quarantined + duplicates` is a real check (the
    accounting gate asserts it, and reconciliation compares it with what the warehouse loaded).
    """
    p, days = ds.prefix, days_sql("date", interval)
    rows = con.execute(
        f"""
        WITH r AS (SELECT date, sum(n) AS n FROM (SELECT date, 1 AS n FROM {p}_records WHERE {days}
                                                  UNION ALL SELECT date, n FROM {p}_unaccounted WHERE {days}) GROUP BY date),
             s AS (SELECT date, count(*) AS n FROM {p}_staged GROUP BY date),
             q AS (SELECT date, count(*) AS n FROM {p}_quarantine GROUP BY date),
             d AS (SELECT date, count(*) AS n FROM {p}_duplicates GROUP BY date)
        SELECT r.date, r.n, coalesce(s.n, 0), coalesce(q.n, 0), coalesce(d.n, 0)
        FROM r LEFT JOIN s USING (date) LEFT JOIN q USING (date) LEFT JOIN d USING (date)
        ORDER BY r.date
        """
    ).fetchall()
    stats = {day: _counts(ds.name, day) for day in interval.days()}
    for day, received, n_staged, n_quarantined, n_duplicates in rows:
        stats[day].update(received=int(received), staged=n_staged, quarantined=n_quarantined, duplicates=n_duplicates)
    return stats


def _counts(dataset: str, day: dt.date) -> dict[str, object]:
    return {"dataset": dataset, "date": day.isoformat(), "received": 0, "staged": 0, "quarantined": 0, "duplicates": 0}


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
    with lake.scratch(f"stage-{dataset}") as tmp:
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
            lake.write_bytes(f"{target}/{STATS_FILE}", json.dumps(stats.get(day, _counts(dataset, day))).encode())


def _write_undated(lake: Lake, con: duckdb.DuckDBPyConnection, ds: Dataset) -> int:
    """Write (or remove) the dataset's records that no day can hold; return how many there are."""
    relation, target = f"{ds.prefix}_undated", f"staged/{ds.name}/{UNDATED_FILE}"
    n = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    n += con.execute(f"SELECT coalesce(sum(n), 0) FROM {ds.prefix}_unaccounted WHERE date IS NULL").fetchone()[0]
    if not n:
        lake.remove(target)
        return 0
    with lake.writing(target) as out:
        con.execute(f"COPY (SELECT * FROM {relation} ORDER BY raw_file, reason, record) TO '{out}' (FORMAT parquet)")
    return int(n)


def _replace_single(lake: Lake, local_dir: Path, target: str) -> None:
    files = sorted(local_dir.glob("*")) if local_dir.exists() else []
    if len(files) > 1:
        raise RuntimeError(f"expected one file per partition in {local_dir}, found {len(files)}")
    if not files:
        lake.remove(target)
        return
    with lake.writing(target) as out:
        shutil.move(files[0], out)


def days_sql(column: str, interval: Interval) -> str:
    """SQL: DATE `column` lies in the interval."""
    return f"{column} >= DATE '{interval.start}' AND {column} < DATE '{interval.end}'"


def relative_path_sql(lake: Lake, column: str = "filename") -> str:
    """SQL turning an absolute file name from DuckDB's `filename` column into a lake-relative path."""
    prefix = lake.uri().rstrip("/") + "/"
    return f"substr({column}, {len(prefix) + 1})"


def staged_extent(lake: Lake) -> Interval | None:
    """The interval from the first to the last staged day partition (None when nothing is staged)."""
    days = sorted(d.start for p in lake.fs.glob(lake.path("staged/*/date=*")) if (d := partition_days(p)) is not None)
    return Interval.covering(days[0], days[-1]) if days else None
