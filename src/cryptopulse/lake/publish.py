"""Publish warehouse tables as one atomic version: a Delta Lake table per table, one manifest as the commit point.

Each published table is a Delta table at `published/<table>/` (facts partitioned by `date`). A publish
exports the interval's rows from the engine into a scratch folder the run owns, commits them to each
Delta table (replacing the interval's days of partitioned tables, the whole of the others), then
switches `published/_manifest.json` in one atomic write: the version number, and per table the Delta
version and the exact list of its data files. That write is the only commit point: a reader that read
the manifest sees that version's files and no others (`cryptopulse.read.snapshot`), whatever a publish
does meanwhile. A publish killed before the switch leaves Delta commits beyond the manifest; the next
publish restores every table to the version the manifest pins before it writes. The files of the
previous version are kept (readers may still use it); older ones are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction

from cryptopulse.engines import Engine
from cryptopulse.interval import Interval
from cryptopulse.lake.manifest import MANIFEST, read_manifest, write_manifest
from cryptopulse.lake.store import Lake
from cryptopulse.models.registry import load_models
from cryptopulse.sqltext import partition_filter

__all__ = ["MANIFEST", "PublishedTable", "publish", "published_tables", "recover"]

SCRATCH = "published/_scratch"
# Warehouse tables published beside the models, whole: what readers need to see the data's health and analysis.
SYSTEM_TABLES = ("quarantine", "staging_stats", "quality_results", "pipeline_runs", "analysis_lead_lag")


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


INTERMEDIATE_PREFIX = "int_"  # models that other models read (int_coin_mentions): built in the warehouse, never published


def published_tables() -> list[tuple[str, str | None, str]]:
    """(table, partition column or None, sort key) of every published model: all but the intermediate ones."""
    return [
        (m.name, "date" if m.publish_partitioned else None, ", ".join(m.unique_key) or "ALL")
        for m in load_models() if not m.name.startswith(INTERMEDIATE_PREFIX)
    ]


def publish(engine: Engine, lake: Lake, interval: Interval, run_id: str, only: Iterable[str] | None = None) -> list[PublishedTable]:
    """Publish the interval's partitions of the partitioned models and the whole of every other table (or of `only`),
    as a new version; tables left out keep their published state."""
    manifest = read_manifest(lake)
    killed = recover(lake, manifest)
    wanted = set(only) if only is not None else None
    specs = [TableSpec(*t) for t in published_tables()] + [
        TableSpec(name, None, "ALL") for name in SYSTEM_TABLES if engine.table_exists(name)
    ]
    specs = [s for s in specs if wanted is None or s.name in wanted]
    entries = dict((manifest or {}).get("tables", {}))
    written: dict[str, DeltaTable] = {}
    with _scratch(lake, run_id) as scratch, duckdb.connect() as types:
        for spec in specs:
            entries[spec.name], written[spec.name] = _publish_table(engine, lake, interval, spec, f"{scratch}/{spec.name}", run_id, types)
    version = int((manifest or {}).get("version", 0)) + 1
    entries = {name: dict(entry) for name, entry in entries.items()}
    _retire(manifest, entries)
    write_manifest(lake, {
        "version": version,
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_interval": [interval.start.isoformat(), interval.end.isoformat()],
        "tables": entries,
    })
    _vacuum(lake, manifest, entries, written, killed)
    return [PublishedTable(n, e["rows"], e["files"], e["partitioned_by"] is not None) for n, e in entries.items()]


def recover(lake: Lake, manifest: dict | None = None) -> bool:
    """Undo what a killed publish left: restore each Delta table to the version the manifest pins, remove tables it
    does not know and the scratch folders; True when a publish had been killed (its files may lie in the tables)."""
    manifest = manifest if manifest is not None else read_manifest(lake)
    pinned = {n: t.get("delta_version") for n, t in (manifest or {}).get("tables", {}).items()}
    killed = lake.exists(SCRATCH) and bool(lake.fs.ls(lake.path(SCRATCH), detail=False))
    for path in lake.fs.ls(lake.path("published"), detail=False) if lake.exists("published") else []:
        name = lake.relative(path).removeprefix("published/")
        if name.startswith(("_", ".")) or lake.fs.isfile(path):
            continue
        if name not in pinned or pinned[name] is None:
            lake.remove(f"published/{name}", recursive=True)  # never part of a version
            killed = True
        elif lake.exists(f"published/{name}/_delta_log/{pinned[name] + 1:020d}.json"):  # committed past the manifest
            DeltaTable(_table_uri(lake, name), storage_options=storage_options(lake)).restore(pinned[name])
            killed = True
    lake.remove(SCRATCH, recursive=True)
    return killed


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


def _publish_table(
    engine: Engine, lake: Lake, interval: Interval, spec: TableSpec, scratch: str, run_id: str, types: duckdb.DuckDBPyConnection
) -> tuple[dict, DeltaTable]:
    """Export one table's rows to `scratch` (the engine writes the Parquet files), move them into its Delta table
    under names of this run, and commit them there in one Delta transaction; its manifest entry and the table."""
    where = partition_filter(spec.partition, interval) if spec.partition else "1 = 1"
    query = f"SELECT * FROM {spec.name} WHERE {where} ORDER BY {spec.key}"
    engine.export_parquet(query, scratch, spec.partition)
    exported = _exported_files(scratch)
    if not exported:  # no row in the interval: an empty file tells the schema; the commit empties the interval's days
        engine.export_parquet(query, f"{scratch}-schema", None)
        schema = pq.read_schema(_exported_files(f"{scratch}-schema")[0][1])
    else:
        schema = _schema(exported[0][1], spec.partition)
    uri, options = _table_uri(lake, spec.name), storage_options(lake)
    partition_by = [spec.partition] if spec.partition else None
    try:
        table = DeltaTable(uri, storage_options=options)
    except TableNotFoundError:
        table = DeltaTable.create(uri, schema, partition_by=partition_by, storage_options=options)
    actions = [_add(lake, spec.name, relpath, local, f"part-{run_id}-{n}.parquet") for n, (relpath, local) in enumerate(exported)]
    filters = [(spec.partition, ">=", str(interval.start)), (spec.partition, "<", str(interval.end))] if spec.partition else None
    table.create_write_transaction(actions, mode="overwrite", schema=schema, partition_by=partition_by, partition_filters=filters)
    table.update_incremental()
    files = sorted(lake.relative(_strip_file_scheme(f)) for f in table.file_uris())
    entry = {
        "path": f"published/{spec.name}",
        "format": "delta",
        "delta_version": table.version(),
        "rows": _rows(table),
        "files": len(files),
        "partitioned_by": spec.partition,
        "columns": _columns(types, schema),
        "file_list": files,
    }
    return entry, table


def _rows(table: DeltaTable) -> int:
    """The table's rows from its log (each data file's `numRecords`, written by `_add`): no query on the engine,
    which is a whole job on Spark. Read as a stream: `pa.table()` would first import pandas to rule out a DataFrame."""
    counts = pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=True)).read_all().column("num_records")
    return int(pc.sum(counts).as_py() or 0)


def _exported_files(folder: str) -> list[tuple[str, str]]:
    """(path inside `folder`, local path) of every Parquet file the engine exported, sorted."""
    if not os.path.isdir(folder):
        return []
    found = [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names if name.endswith(".parquet")]
    return sorted((os.path.relpath(path, folder).replace(os.sep, "/"), path) for path in found)


def _schema(local: str, partition: str | None) -> pa.Schema:
    """The table's schema: a file's columns plus the partition column (a date), which Delta keeps in the path."""
    schema = pq.read_schema(local)
    return schema.append(pa.field(partition, pa.date32())) if partition else schema


def _add(lake: Lake, table: str, relpath: str, local: str, name: str) -> AddAction:
    """Move one exported file into the table's folder under `name` (same partition folder); its Delta add action."""
    folder = relpath.rpartition("/")[0]
    target = f"{folder}/{name}" if folder else name
    rows, size = pq.read_metadata(local).num_rows, os.path.getsize(local)
    dest = f"published/{table}/{target}"
    if lake.is_local:
        os.makedirs(os.path.dirname(lake.path(dest)), exist_ok=True)
        os.replace(local, lake.path(dest))
    else:
        lake.fs.put_file(local, lake.path(dest))
    values = dict(part.split("=", 1) for part in folder.split("/")) if folder else {}
    return AddAction(target, size, values, int(time.time() * 1000), True, json.dumps({"numRecords": rows}))


def _columns(types: duckdb.DuckDBPyConnection, schema: pa.Schema) -> list[list[str]]:
    """[[name, DuckDB type], …] of a schema: lets readers make an empty table's view with the right columns."""
    relation = types.from_arrow(pa.Table.from_batches([], schema=schema))  # not schema.empty_table(): it imports pandas
    return [[name, str(kind)] for name, kind in zip(relation.columns, relation.types)]


def _strip_file_scheme(uri: str) -> str:
    return uri.removeprefix("file://")


class _scratch:
    """A folder the run owns for the engine's export: under the lake when it is local, a temporary one otherwise
    (then a marker object under the lake's scratch prefix stands for it). What is left of it after a publish
    tells the next publish that this one was killed (`recover`)."""

    def __init__(self, lake: Lake, run_id: str) -> None:
        self.lake, self.run_id = lake, run_id

    def __enter__(self) -> str:
        if self.lake.is_local:
            self.path = self.lake.path(f"{SCRATCH}/{self.run_id}")
            os.makedirs(self.path, exist_ok=True)
        else:
            self.lake.write_bytes(f"{SCRATCH}/{self.run_id}", b"")
            self.path = tempfile.mkdtemp(prefix="cryptopulse-publish-")
        return self.path

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """Clean up; on failure the lake's part stays, so the next publish knows this one did not finish."""
        if not self.lake.is_local:
            shutil.rmtree(self.path, ignore_errors=True)
            if kind is None:
                self.lake.remove(f"{SCRATCH}/{self.run_id}")
        elif kind is None:
            shutil.rmtree(self.path, ignore_errors=True)


def _retire(previous: dict | None, current: dict[str, dict]) -> None:
    """Note in each table's entry the files the previous version had and this one has not (`retired`): kept while
    readers may still use the previous version, removed by the next publish."""
    before = (previous or {}).get("tables", {})
    for name, entry in current.items():
        entry["retired"] = sorted(set(before.get(name, {}).get("file_list", [])) - set(entry["file_list"]))


def _vacuum(lake: Lake, previous: dict | None, current: dict[str, dict], written: dict[str, DeltaTable], killed: bool) -> None:
    """Remove the files of versions older than the previous one: what the previous version retired (no listing, so
    the cost follows the day's changes, not the history). After a killed publish, every file of the written tables
    that neither version uses — including files it moved in but never committed — found by Delta's full vacuum
    (a dry run: Delta lists, this removes, so the log gets no vacuum commits)."""
    for name, entry in (previous or {}).get("tables", {}).items():
        in_use = set(current[name]["file_list"])
        _remove(lake, [f for f in entry.get("retired", []) if f not in in_use])
    if not killed:
        return
    pinned = {n: t.get("delta_version") for n, t in (previous or {}).get("tables", {}).items()}
    for name, table in written.items():
        keep = [v for v in (pinned.get(name), current[name]["delta_version"]) if v is not None]
        stale = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=True, full=True, keep_versions=keep)
        _remove(lake, [f"published/{name}/{f}" for f in stale])


def _remove(lake: Lake, relpaths: list[str]) -> None:
    """Remove these lake files; one already gone is fine (a publish killed while removing them)."""
    for relpath in relpaths:
        with contextlib.suppress(FileNotFoundError):
            lake.fs.rm_file(lake.path(relpath))
