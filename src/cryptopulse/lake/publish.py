"""Publish warehouse tables as one atomic version: a Delta Lake table per table, one manifest as the commit point.

Each published table is a Delta table at `published/<table>/` (facts partitioned by `date`). A publish
exports the interval's rows from the engine into a scratch folder the run owns, commits them to each
Delta table (replacing the interval's days of partitioned tables, the whole of the others), then
switches `published/_manifest.json` in one atomic write: the version number, and per table the Delta
version and the exact list of its data files. That write is the only commit point: a reader that read
the manifest sees that version's files and no others (`cryptopulse.read.snapshot`), whatever a publish
does meanwhile. A publish killed before the switch leaves Delta commits beyond the manifest; the next
publish restores every table to the version the manifest pins before it writes. The files of the
previous version are kept (readers may still use it); older ones are vacuumed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import DeltaTable, WriterProperties, write_deltalake

from cryptopulse.engines import Engine
from cryptopulse.interval import Interval
from cryptopulse.lake.manifest import MANIFEST, read_manifest, write_manifest
from cryptopulse.lake.store import Lake, LakeError
from cryptopulse.models.build import partition_filter
from cryptopulse.models.registry import load_models

__all__ = ["MANIFEST", "PublishedTable", "publish", "published_tables", "recover"]

SCRATCH = "published/_scratch"
# Warehouse tables published beside the models, whole: what readers need to see the data's health and analysis.
SYSTEM_TABLES = ("quarantine", "staging_stats", "quality_results", "pipeline_runs", "analysis_lead_lag")
WRITER = WriterProperties(compression="ZSTD", compression_level=3, max_row_group_size=122_880)


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    files: int
    partitioned: bool


@dataclass(frozen=True)
class TableSpec:
    """A table to publish: its name, partition column (None: whole) and sort key."""

    name: str
    partition: str | None
    key: str


def published_tables() -> list[tuple[str, str | None, str]]:
    """(table, partition column or None, sort key) of every published model."""
    return [
        (m.name, "date" if m.publish_partitioned else None, ", ".join(m.unique_key) or "ALL")
        for m in load_models()
    ]


def publish(engine: Engine, lake: Lake, interval: Interval, run_id: str, only: Iterable[str] | None = None) -> list[PublishedTable]:
    """Publish the interval's partitions of the partitioned models and the whole of every other table (or of `only`),
    as a new version; tables left out keep their published state."""
    manifest = read_manifest(lake)
    recover(lake, manifest)
    wanted = set(only) if only is not None else None
    specs = [TableSpec(*t) for t in published_tables()] + [
        TableSpec(name, None, "ALL") for name in SYSTEM_TABLES if engine.table_exists(name)
    ]
    specs = [s for s in specs if wanted is None or s.name in wanted]
    entries = dict((manifest or {}).get("tables", {}))
    with _scratch(lake, run_id) as scratch:
        for spec in specs:
            entries[spec.name] = _publish_table(engine, lake, interval, spec, f"{scratch}/{spec.name}")
    version = int((manifest or {}).get("version", 0)) + 1
    write_manifest(lake, {
        "version": version,
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_interval": [interval.start.isoformat(), interval.end.isoformat()],
        "tables": entries,
    })
    _vacuum(lake, manifest, entries, [s.name for s in specs])
    return [PublishedTable(n, e["rows"], e["files"], e["partitioned_by"] is not None) for n, e in entries.items()]


def recover(lake: Lake, manifest: dict | None = None) -> list[str]:
    """Undo what a killed publish committed beyond the manifest: restore each Delta table to the version the
    manifest pins, remove tables it does not know and scratch folders; returns the tables it changed."""
    manifest = manifest if manifest is not None else read_manifest(lake)
    pinned = {n: t.get("delta_version") for n, t in (manifest or {}).get("tables", {}).items()}
    changed = []
    for path in lake.fs.ls(lake.path("published"), detail=False) if lake.exists("published") else []:
        name = lake.relative(path).removeprefix("published/")
        if name.startswith(("_", ".")) or lake.fs.isfile(path):
            continue
        if name not in pinned or pinned[name] is None:
            lake.remove(f"published/{name}", recursive=True)  # never part of a version
            changed.append(name)
            continue
        table = DeltaTable(_table_uri(lake, name), storage_options=storage_options(lake))
        if table.version() != pinned[name]:
            table.restore(pinned[name])
            changed.append(name)
    lake.remove(SCRATCH, recursive=True)
    return changed


def storage_options(lake: Lake) -> dict[str, str] | None:
    """delta-rs options for the lake's object store (endpoint and plain HTTP for S3-compatible servers)."""
    if lake.is_local:
        return None
    options = {"AWS_S3_ALLOW_UNSAFE_RENAME": "true"}  # one writer at a time: the run lock serialises publishes
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        options["AWS_ALLOW_HTTP"] = str(endpoint.startswith("http://")).lower()
    return options


def _table_uri(lake: Lake, name: str) -> str:
    return lake.uri(f"published/{name}")


def _publish_table(engine: Engine, lake: Lake, interval: Interval, spec: TableSpec, scratch: str) -> dict:
    """Export one table's rows to `scratch`, commit them to its Delta table; return its manifest entry."""
    where = partition_filter(spec.partition, interval) if spec.partition else "1 = 1"
    query = f"SELECT * FROM {spec.name} WHERE {where} ORDER BY {spec.key}"
    engine.export_parquet(query, scratch, spec.partition)
    if not _has_parquet(scratch):  # no row in the interval: one empty file carries the schema, the commit empties the days
        engine.export_parquet(query, scratch, None)
    data = _exported(scratch, spec.partition)
    uri = _table_uri(lake, spec.name)
    options = storage_options(lake)
    if spec.partition:
        predicate = f"{spec.partition} >= '{interval.start}' AND {spec.partition} < '{interval.end}'"
        mode_args = {"mode": "overwrite", "predicate": predicate} if DeltaTable.is_deltatable(uri, options) else {"mode": "overwrite"}
        write_deltalake(uri, data, partition_by=[spec.partition], writer_properties=WRITER, storage_options=options, **mode_args)
    else:
        write_deltalake(uri, data, mode="overwrite", schema_mode="overwrite", writer_properties=WRITER, storage_options=options)
    table = DeltaTable(uri, storage_options=options)
    files = sorted(lake.relative(_strip_file_scheme(f)) for f in table.file_uris())
    return {
        "path": f"published/{spec.name}",
        "format": "delta",
        "delta_version": table.version(),
        "rows": engine.fetchall(f"SELECT count(*) FROM {spec.name}")[0][0],
        "files": len(files),
        "partitioned_by": spec.partition,
        "columns": _columns(data.schema),
        "file_list": files,
    }


def _exported(folder: str, partition: str | None) -> pa.RecordBatchReader:
    """The exported Parquet files as one stream of batches (the partition column typed as a date)."""
    if not _has_parquet(folder):
        raise LakeError(f"publishing: the engine exported no file into {folder}")
    hive = partition and any(name.startswith(f"{partition}=") for name in os.listdir(folder))
    partitioning = pads.partitioning(pa.schema([(partition, pa.date32())]), flavor="hive") if hive else None
    dataset = pads.dataset(folder, format="parquet", partitioning=partitioning)
    return dataset.scanner().to_reader()


def _has_parquet(folder: str) -> bool:
    return os.path.isdir(folder) and any(name.endswith(".parquet") for _, _, names in os.walk(folder) for name in names)


def _columns(schema: pa.Schema) -> list[list[str]]:
    """[[name, DuckDB type], …] of a schema: lets readers make an empty table's view with the right columns."""
    con = duckdb.connect()
    try:
        relation = con.from_arrow(schema.empty_table())
        return [[name, str(kind)] for name, kind in zip(relation.columns, relation.types)]
    finally:
        con.close()


def _strip_file_scheme(uri: str) -> str:
    return uri.removeprefix("file://")


class _scratch:
    """A folder the run owns for the engine's export: under the lake when it is local, a temporary one otherwise."""

    def __init__(self, lake: Lake, run_id: str) -> None:
        self.lake, self.run_id = lake, run_id

    def __enter__(self) -> str:
        if self.lake.is_local:
            self.path = self.lake.path(f"{SCRATCH}/{self.run_id}")
            os.makedirs(self.path, exist_ok=True)
        else:
            self.path = tempfile.mkdtemp(prefix="cryptopulse-publish-")
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _vacuum(lake: Lake, previous: dict | None, current: dict, written: list[str]) -> None:
    """Remove the files of versions older than the previous one (and any a killed writer left) from written tables."""
    pinned = {n: t.get("delta_version") for n, t in (previous or {}).get("tables", {}).items()}
    for name in written:
        keep = [v for v in (pinned.get(name), current[name]["delta_version"]) if v is not None]
        table = DeltaTable(_table_uri(lake, name), storage_options=storage_options(lake))
        table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True, keep_versions=keep)


def interval_days(interval: Interval) -> set[str]:
    return {d.isoformat() for d in interval.days()}
