"""Publish warehouse tables to `published/` as Parquet, atomically: export aside, journal, then switch.

Each table lives at `published/<table>/` — facts as one file per day (`date=YYYY-MM-DD/part-0.parquet`),
dimensions and aggregates as one file. A publish first exports everything to
`published/_pending/<run_id>/` (hidden from readers, which skip `_` paths), then writes a journal
listing the moves (the commit point), then moves each file over its target (an atomic rename per
file locally, an atomic PUT per object on S3) and rewrites `published/_manifest.json`. A crash
before the journal leaves the previous version untouched; a crash after it is rolled forward by the
next publish (`recover`).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass

from cryptopulse.engines import Engine
from cryptopulse.interval import Interval
from cryptopulse.lake.store import Lake
from cryptopulse.models.build import partition_filter
from cryptopulse.models.registry import load_models

PENDING = "published/_pending"
MANIFEST = "published/_manifest.json"
JOURNAL = "_journal.json"


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    files: int
    partitioned: bool
    paths: tuple[str, ...] = ()


def publish(engine: Engine, lake: Lake, interval: Interval, run_id: str) -> list[PublishedTable]:
    """Publish every model: the interval's day-partitions of partitioned tables, the whole of the others."""
    recover(lake)
    pending = f"{PENDING}/{run_id}"
    staged_files = _export(engine, lake, interval, pending)
    moves, deletes = _plan(lake, pending, staged_files, interval)
    lake.write_bytes(f"{pending}/{JOURNAL}", json.dumps({"moves": moves, "deletes": deletes}).encode())
    _apply(lake, pending, moves, deletes)
    tables = _describe(engine, lake)
    _write_manifest(lake, run_id, interval, tables)
    lake.remove(pending, recursive=True)
    return tables


def recover(lake: Lake) -> list[str]:
    """Finish publishes that crashed after their journal; discard ones that crashed before it."""
    done = []
    for path in lake.fs.glob(lake.path(f"{PENDING}/*")):
        pending = lake.relative(path)
        journal = f"{pending}/{JOURNAL}"
        if lake.exists(journal):
            plan = json.loads(lake.read_bytes(journal))
            _apply(lake, pending, plan["moves"], plan["deletes"])
            done.append(pending)
        lake.remove(pending, recursive=True)
    return done


def published_tables() -> list[tuple[str, str | None, str]]:
    """(table, partition column or None, sort key) of every published table."""
    return [
        (m.name, "date" if m.publish_partitioned else None, ", ".join(m.unique_key) or "ALL")
        for m in load_models()
    ]


def _export(engine: Engine, lake: Lake, interval: Interval, pending: str) -> list[str]:
    """Export each table under `pending`; return the lake-relative files written."""
    local_root = lake.path(pending) if lake.is_local else tempfile.mkdtemp(prefix="cryptopulse-publish-")
    try:
        for table, partition, key in published_tables():
            where = partition_filter(partition, interval) if partition else "1 = 1"
            engine.export_parquet(f"SELECT * FROM {table} WHERE {where} ORDER BY {key}", f"{local_root}/{table}", partition)
        if not lake.is_local:
            lake.fs.put(local_root + "/", lake.path(pending), recursive=True)
    finally:
        if not lake.is_local:
            shutil.rmtree(local_root, ignore_errors=True)
    return [lake.relative(p) for p in lake.fs.find(lake.path(pending)) if p.endswith(".parquet")]


def _plan(lake: Lake, pending: str, files: list[str], interval: Interval) -> tuple[list[list[str]], list[str]]:
    """Moves (pending file → published path) and deletes (stale files the new version replaces)."""
    moves = [[f, "published/" + f[len(pending) + 1 :]] for f in files]
    targets = {dst for _, dst in moves}
    deletes = []
    for table, partition, _ in published_tables():
        existing = [lake.relative(p) for p in lake.fs.find(lake.path(f"published/{table}")) if p.endswith(".parquet")]
        for path in existing:
            if path in targets:
                continue
            if partition is None or _day_of(path) in interval_days(interval):
                deletes.append(path)
    return moves, deletes


def interval_days(interval: Interval) -> set[str]:
    return {d.isoformat() for d in interval.days()}


def _day_of(path: str) -> str | None:
    for part in path.split("/"):
        if part.startswith("date="):
            return part[5:]
    return None


def _apply(lake: Lake, pending: str, moves: list[list[str]], deletes: list[str]) -> None:
    for src, dst in moves:
        if lake.exists(src):
            lake.move(src, dst)
    for path in deletes:
        lake.remove(path)


def _describe(engine: Engine, lake: Lake) -> list[PublishedTable]:
    tables = []
    for table, partition, _ in published_tables():
        files = sorted(lake.relative(p) for p in lake.fs.find(lake.path(f"published/{table}")) if p.endswith(".parquet"))
        rows = engine.fetchall(f"SELECT count(*) FROM {table}")[0][0]
        tables.append(PublishedTable(table, rows, len(files), partition is not None, tuple(files)))
    return tables


def _write_manifest(lake: Lake, run_id: str, interval: Interval, tables: list[PublishedTable]) -> None:
    previous = json.loads(lake.read_bytes(MANIFEST)) if lake.exists(MANIFEST) else {}
    manifest = {
        "version": int(previous.get("version", 0)) + 1,
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_interval": [interval.start.isoformat(), interval.end.isoformat()],
        "tables": {
            t.name: {
                "path": f"published/{t.name}/" + ("date=*/*.parquet" if t.partitioned else "*.parquet"),
                "rows": t.rows,
                "files": t.files,
                "partitioned_by": "date" if t.partitioned else None,
                "file_list": list(t.paths),
            }
            for t in tables
        },
    }
    lake.write_bytes(MANIFEST, json.dumps(manifest, indent=2).encode())
