"""Spark engine: the same models (sqlglot's Spark SQL) over a warehouse of Parquet tables, one folder per table.

The warehouse is a folder or object-store URL (`CRYPTOPULSE_WAREHOUSE`; a `….duckdb` path becomes `….spark`):

    _catalog/<table>.json          column types, partition column and folder unit of each table
    <table>/part_month=YYYY-MM-01/*.parquet   rows, one folder (one file) per month of the partition column
                                   (unpartitioned tables: one folder; warehouses written before: one per day)
    _pending/<txn>/<table>-<n>/     rows written by a transaction that is still open
    _exports/<id>/                  a publish's export, on its way to the lake

A transaction writes, under `_pending/`, each replaced table's new rows plus the rows it keeps in the folders
the interval touches (a day's run rewrites its month), in one Spark job that also counts the new rows; it
shadows the table with a temp view (kept folders ∪ rewritten ones), so later models and the gates read the new
state. Commit replaces exactly the touched folders with the new ones (what Spark's dynamic partition overwrite
does at the end of a write, here at the end of the transaction) and removes touched folders that came out
empty; rollback deletes `_pending/<txn>`. Nothing is ever appended to or merged into a data table. The log
tables (quality_results, pipeline_runs) only ever grow, so they are appended to.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, StringType, StructField, StructType
from sqlglot import exp

from cryptopulse.config import Settings
from cryptopulse.engine_protocol import EngineError
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.spark.session import spark_session
from cryptopulse.sqltext import column_ddl, split_order
from cryptopulse.staging.zone import SIDE_FILES, StagedRelation, seeds, staged_relations

CATALOG = "_catalog"
PENDING = "_pending"
EXPORTS = "_exports"
MONTH_FOLDER = "part_month"  # the folder column of a partitioned table: the first day of its partition value's month


@dataclass(frozen=True)
class TableInfo:
    """What the catalog keeps per table: its columns (in model order), its partition column and folder unit.

    A partitioned table keeps one folder per month of its partition column (`part_month=2024-05-01`): a day
    per folder would mean one small file per day and table, which Spark writes, lists and opens slowly.
    Warehouses written before kept one folder per day (`date=2024-05-01`); their catalogs say nothing of folders.
    """

    schema: StructType
    partition: str | None
    folders: str = "month"

    def to_json(self) -> bytes:
        meta = {"schema": self.schema.jsonValue(), "partition": self.partition, "folders": self.folders}
        return json.dumps(meta, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> TableInfo:
        meta = json.loads(data)
        return cls(StructType.fromJson(meta["schema"]), meta["partition"], meta.get("folders", "day"))

    @property
    def folder_column(self) -> str | None:
        """The column Spark partitions the files by: the partition column itself (day folders) or `part_month`."""
        if self.partition is None:
            return None
        return self.partition if self.folders == "day" else MONTH_FOLDER

    def with_folder(self, rows: DataFrame) -> DataFrame:
        """`rows` plus the folder column, when it is not the partition column itself."""
        if self.folder_column in (None, self.partition):
            return rows
        return rows.withColumn(MONTH_FOLDER, F.trunc(F.col(self.partition), "month"))

    def touched(self, interval: Interval | None) -> Column | None:
        """The rows in the folders that `interval` overlaps (whole months); None when the whole table is replaced."""
        if self.partition is None or interval is None:
            return None
        if self.folders == "day":
            return in_partitions(self.partition, interval)
        value = F.col(self.partition)
        return (value >= F.lit(month_start(interval.start))) & (value < F.lit(next_month(interval.end - dt.timedelta(days=1))))

    def folder_end(self, start: dt.date) -> dt.date:
        """The day after the last day of the folder that starts on `start`."""
        return start + dt.timedelta(days=1) if self.folders == "day" else next_month(start)


@dataclass(frozen=True)
class Change:
    """One replace inside a transaction: new rows written to `pending`, replacing `interval` (None: all)."""

    table: str
    pending: str
    partition: str | None
    interval: Interval | None


class SparkEngine:
    dialect = "spark"

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.location = spark_warehouse(settings.warehouse)
        self.store = Lake(self.location)
        if read_only and not self.store.exists(CATALOG):
            raise EngineError(f"Spark warehouse not found at {self.location} (run `cryptopulse run` with CRYPTOPULSE_ENGINE=spark first)")
        self.spark = spark_session(settings)
        self.tables = self._load_catalog()
        self.txn: str | None = None
        self.changes: list[Change] = []
        self._show_committed()

    # -- SQL -------------------------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def fetchall(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A user's query (`cryptopulse sql`): Spark's error, first line, as an EngineError."""
        try:
            frame = self.spark.sql(sql)
            return frame.columns, [tuple(row) for row in frame.collect()]
        except PySparkException as e:
            raise EngineError(f"query failed: {str(e).strip().splitlines()[0]}") from None

    def table_exists(self, name: str) -> bool:
        return name in self.tables

    def table_names(self) -> list[str]:
        return sorted(self.tables)

    def close(self) -> None:
        """Roll back an open transaction; the session stays up for the next engine of this process."""
        if self.txn:
            self.rollback()

    # -- transactions ----------------------------------------------------------------------------
    def begin(self) -> None:
        if self.txn:
            raise EngineError("a transaction is already open on the Spark warehouse")
        self.txn, self.changes = uuid.uuid4().hex[:12], []

    def commit(self) -> None:
        """Move every change of the transaction into its table, in order, then save the catalog."""
        for change in self.changes:
            self._apply(change)
        for name in {c.table for c in self.changes}:
            self.store.write_bytes(f"{CATALOG}/{name}.json", self.tables[name].to_json())
        self._end()

    def rollback(self) -> None:
        committed = self._load_catalog()
        for name in set(self.tables) - set(committed):
            self.spark.catalog.dropTempView(name)
        self.tables = committed
        self._end()

    def _end(self) -> None:
        if self.txn:
            self.store.remove(f"{PENDING}/{self.txn}", recursive=True)
        self.txn, self.changes = None, []
        self._show_committed()

    # -- writing tables --------------------------------------------------------------------------
    def replace_rows(self, table: str, select: str, partition: str | None, interval: Interval | None) -> int | None:
        """Replace the rows of `table` in `interval`'s partitions (all rows when None) by the rows of `select`;
        returns the rows written, counted by the write itself (no second job), or None when Spark kept no count."""
        autocommit = self.txn is None
        if autocommit:
            self.begin()
        rows = self.spark.sql(select)
        replaced = in_partitions(partition, interval)
        if replaced is not None:  # a row outside the interval would overwrite a partition the run does not own
            rows = rows.where(replaced)
        existed = table in self.tables
        info = self.tables.setdefault(table, TableInfo(nullable(rows.schema), partition))
        counted = Observation()
        new = rows.select(*[F.col(f.name).cast(f.dataType) for f in info.schema.fields]).observe(counted, F.count(F.lit(1)).alias("rows"))
        touched = info.touched(interval)
        if existed and touched is not None and info.folders == "month":  # the touched months' other days, written again
            new = new.unionByName(self.spark.table(table).where(touched & ~replaced))
        pending = f"{PENDING}/{self.txn}/{table}-{len(self.changes)}"
        self._write(info.with_folder(new), pending, info.folder_column)
        self.changes.append(Change(table, pending, partition, interval))
        new_state = self._read(table, pending)
        if existed and touched is not None:
            new_state = self.spark.table(table).where(~touched | touched.isNull()).unionByName(new_state)
        new_state.createOrReplaceTempView(table)
        if autocommit:
            self.commit()
        return _observed(counted)

    def append_rows(self, table: str, columns: str, rows: list[tuple]) -> None:
        """Append `rows` to a log table (created on first use with the DuckDB-typed `columns`)."""
        schema = StructType.fromDDL(column_ddl(columns, "spark"))
        if table not in self.tables:
            self.tables[table] = TableInfo(schema, None)
            self.store.write_bytes(f"{CATALOG}/{table}.json", self.tables[table].to_json())
        self.spark.createDataFrame(rows, schema).write.mode("append").parquet(self._uri(table))
        self._read(table).createOrReplaceTempView(table)

    def _apply(self, change: Change) -> None:
        """Swap the change's folders into its table: the whole table, or exactly the folders the interval touches.

        This is the commit of Spark's dynamic partition overwrite (write aside, then replace each partition
        folder), done once per transaction so that a failed gate leaves every table as it was.
        """
        if change.partition is None or change.interval is None:
            self.store.remove(change.table, recursive=True)
            self._move_folder(change.pending, change.table)
            return
        info, new = self.tables[change.table], self._partition_dirs(change.pending)
        for name, start in self._partition_dirs(change.table).items():
            if name not in new and start < change.interval.end and info.folder_end(start) > change.interval.start:
                self.store.remove(f"{change.table}/{name}", recursive=True)
        for name in new:
            self.store.remove(f"{change.table}/{name}", recursive=True)
            self._move_folder(f"{change.pending}/{name}", f"{change.table}/{name}")

    def _move_folder(self, src: str, dst: str) -> None:
        if self.store.is_local:
            Path(self.store.path(dst)).parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.store.path(src), self.store.path(dst))
        else:
            self.store.fs.mv(self.store.path(src), self.store.path(dst), recursive=True)

    def _write(self, rows: DataFrame, relpath: str, folder: str | None) -> None:
        """One job: the rows shuffled by `folder`, so that each folder gets one file (unpartitioned: one file)."""
        writer = (rows.repartition(folder) if folder else rows.repartition(1)).write.mode("overwrite")
        if folder:
            writer = writer.partitionBy(folder)
        writer.parquet(self._uri(relpath))

    def _partition_dirs(self, relpath: str) -> dict[str, dt.date]:
        """`{'part_month=2024-01-01': date(2024, 1, 1), …}` for the partition folders under `relpath`."""
        if not self.store.exists(relpath):
            return {}
        found = {}
        for path in self.store.fs.ls(self.store.path(relpath), detail=False):
            name = path.rstrip("/").rsplit("/", 1)[-1]
            if "=" in name:
                try:
                    found[name] = dt.date.fromisoformat(name.split("=", 1)[1])
                except ValueError:  # Hive's default partition (NULL values) is never inside an interval
                    continue
        return found

    # -- reading tables --------------------------------------------------------------------------
    def _load_catalog(self) -> dict[str, TableInfo]:
        found = self.store.fs.glob(self.store.path(f"{CATALOG}/*.json"))
        return {Path(p).stem: TableInfo.from_json(self.store.fs.cat_file(p)) for p in sorted(found)}

    def _show_committed(self) -> None:
        for name in self.tables:
            self._read(name).createOrReplaceTempView(name)

    def _read(self, table: str, relpath: str | None = None) -> DataFrame:
        """The rows of `table` stored at `relpath` (default: the committed table), in the catalog's column order."""
        info, relpath = self.tables[table], relpath or table
        if not self.store.exists(relpath):
            return self.spark.createDataFrame([], info.schema)
        return self.spark.read.schema(info.schema).parquet(self._uri(relpath)).select(*info.schema.fieldNames())

    def _uri(self, relpath: str) -> str:
        return spark_uri(self.store, relpath)

    # -- lake ------------------------------------------------------------------------------------
    def attach_staged(self, lake: Lake, days: list[dt.date] | None) -> None:
        """Expose the staged zone for `days` (None: all) as temp views `stg_*`, plus the seed tables."""
        for relation in staged_relations(lake, days):
            if relation.name in SIDE_FILES:
                self._side_file_view(lake, relation)
            else:
                self._staged_view(lake, relation)
        for name, (header, rows) in seeds().items():  # shipped inside the package: read on the driver, sent as rows
            self.spark.createDataFrame(list(rows), StructType([StructField(c, StringType()) for c in header])).createOrReplaceTempView(name)

    def _staged_view(self, lake: Lake, relation: StagedRelation) -> None:
        schema = StructType.fromDDL(column_ddl(relation.columns, "spark"))
        uris = [spark_uri(lake, f) for f in relation.files]
        if not uris:
            frame = self.spark.createDataFrame([], schema)
        elif relation.fmt == "csv":  # read as text, then cast: the CSV holds DuckDB's own renderings
            text = StructType([StructField(f.name, StringType()) for f in schema.fields])
            raw = self.spark.read.csv(uris, schema=text, header=True, escape='"')
            frame = raw.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
        elif relation.fmt == "json":
            frame = self.spark.read.schema(schema).json(uris)
        else:
            frame = self.spark.read.schema(schema).parquet(*uris)
        frame.select(*schema.fieldNames()).createOrReplaceTempView(relation.name)

    def _side_file_view(self, lake: Lake, relation: StagedRelation) -> None:
        """Quarantine and stats files start with '_', which Spark's readers skip: read here, sent as rows."""
        schema = StructType.fromDDL(column_ddl(relation.columns, "spark"))
        tables = []
        for f in relation.files:
            if f.endswith(".json"):
                tables.append(pa.Table.from_pylist([json.loads(lake.read_bytes(f))]))
            else:
                tables.append(pq.read_table(lake.path(f), filesystem=lake.fs))
        names = schema.fieldNames()
        rows = pa.concat_tables([t.select(names) for t in tables], promote_options="permissive").to_pylist() if tables else []
        typed = [tuple(_typed(r[n], f.dataType) for n, f in zip(names, schema.fields)) for r in rows]
        self.spark.createDataFrame(typed, schema).createOrReplaceTempView(relation.name)

    def export_parquet(self, sql: str, local_dir: str, partition_by: str | None) -> None:
        """Write the rows of `sql` under `local_dir` as `part-0.parquet`, one per partition value (or one in all),
        each sorted by the query's ORDER BY, like the DuckDB engine's export."""
        unordered, order = split_order(sql, self.dialect)
        rows = self.spark.sql(unordered)
        keys = [o.this.sql(self.dialect) if isinstance(o, exp.Ordered) else o.sql(self.dialect) for o in order]
        keys = rows.columns if keys == ["ALL"] else keys
        if partition_by:
            rows = rows.repartition(partition_by).sortWithinPartitions(partition_by, *keys)
        else:
            rows = rows.repartition(1).sortWithinPartitions(*keys)
        scratch = f"{EXPORTS}/{uuid.uuid4().hex[:12]}"  # in the warehouse, which every executor can reach
        writer = rows.write.mode("overwrite")
        writer = writer.partitionBy(partition_by) if partition_by else writer
        writer.parquet(self._uri(scratch))
        try:
            self._fetch_parts(scratch, Path(local_dir))
        finally:
            self.store.remove(scratch, recursive=True)

    def _fetch_parts(self, scratch: str, target: Path) -> None:
        """Bring Spark's `part-00000-<uuid>….parquet` files to `target` as `part-0.parquet`, folder by folder."""
        files = sorted(self.store.relative(p) for p in self.store.fs.find(self.store.path(scratch)) if p.endswith(".parquet"))
        folders: dict[str, list[str]] = {}
        for f in files:
            folders.setdefault(f.rsplit("/", 1)[0], []).append(f)
        for folder, parts in folders.items():
            if len(parts) != 1:
                raise RuntimeError(f"expected one Parquet file in {folder}, found {len(parts)}")
            out = target / folder[len(scratch):].lstrip("/") / "part-0.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            if self.store.is_local:
                shutil.move(self.store.path(parts[0]), out)
            else:
                self.store.fs.get(self.store.path(parts[0]), str(out))


def _observed(counted: Observation) -> int | None:
    """The rows an observed write counted; None when Spark found its input empty and optimised the count away."""
    try:
        return counted.get["rows"]
    except Py4JJavaError:  # an empty row: no metrics were collected
        return None


def _typed(value: object, kind: DataType) -> object:
    """A JSON value as the Python value Spark expects for `kind` (dates arrive as ISO strings)."""
    return dt.date.fromisoformat(value) if isinstance(kind, DateType) and isinstance(value, str) else value


def in_partitions(partition: str | None, interval: Interval | None) -> Column | None:
    """The rows whose `partition` value lies in `interval`; None when the whole table is replaced."""
    if partition is None or interval is None:
        return None
    return (F.col(partition) >= F.lit(interval.start)) & (F.col(partition) < F.lit(interval.end))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return (month_start(day) + dt.timedelta(days=32)).replace(day=1)


def nullable(schema: StructType) -> StructType:
    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


def spark_warehouse(warehouse: str) -> str:
    """The Spark warehouse folder for the `warehouse` setting: `x.duckdb` (the default) becomes `x.spark`."""
    return warehouse.removesuffix(".duckdb") + ".spark" if warehouse.endswith(".duckdb") else warehouse


def spark_uri(lake: Lake, relpath: str) -> str:
    """A URI Spark's Hadoop file systems understand: `file://…` locally, `s3a://…` for `s3://` lakes."""
    uri = lake.uri(relpath)
    if lake.is_local:
        return "file://" + uri
    return "s3a://" + uri.removeprefix("s3://") if uri.startswith("s3://") else uri
