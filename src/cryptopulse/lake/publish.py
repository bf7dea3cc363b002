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
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.transaction import AddAction

from cryptopulse.engines import Engine
from cryptopulse.interval import Interval
from cryptopulse.lake.manifest import MANIFEST, read_manifest, write_manifest
from cryptopulse.lake.store import Lake
from cryptopulse.models.build import partition_filter
from cryptopulse.models.registry import load_models

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
            entries[spec.name] = _publish_table(engine, lake, interval, spec, f"{scratch}/{spec.name}", run_id)
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


def _publish_table(engine: Engine, lake: Lake, interval: Interval, spec: TableSpec, scratch: str, run_id: str) -> dict:
    """Export one table's rows to `scratch` (the engine writes the Parquet files), move them into its Delta table
    under names of this run, and commit them there in one Delta transaction; return its manifest entry."""
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
    if not DeltaTable.is_deltatable(uri, options):
        DeltaTable.create(uri, schema, partition_by=[spec.partition] if spec.partition else None, storage_options=options)
    actions = [_add(lake, spec.name, relpath, local, f"part-{run_id}-{n}.parquet") for n, (relpath, local) in enumerate(exported)]
    table = DeltaTable(uri, storage_options=options)
    filters = [(spec.partition, ">=", str(interval.start)), (spec.partition, "<", str(interval.end))] if spec.partition else None
    table.create_write_transaction(actions, mode="overwrite", schema=schema,
                                   partition_by=[spec.partition] if spec.partition else None, partition_filters=filters)
    table.update_incremental()
    files = sorted(lake.relative(_strip_file_scheme(f)) for f in table.file_uris())
    return {
        "path": f"published/{spec.name}",
        "format": "delta",
        "delta_version": table.version(),
        "rows": engine.fetchall(f"SELECT count(*) FROM {spec.name}")[0][0],
        "files": len(files),
        "partitioned_by": spec.partition,
        "columns": _columns(schema),
        "file_list": files,
    }


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
