"""Read-only views of the warehouse for `cryptopulse status` and `cryptopulse sql`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptopulse.config import Settings
from cryptopulse.engines import open_engine
from cryptopulse.lake import Lake
from cryptopulse.lake.publish import MANIFEST


@dataclass
class Status:
    tables: list[tuple[str, int]]
    runs: list[tuple]
    checks: list[tuple]
    published: str


def query(settings: Settings, sql: str) -> tuple[list[str], list[tuple]]:
    engine = open_engine(settings, read_only=True)
    try:
        return engine.query(sql)
    finally:
        engine.close()


def collect(settings: Settings) -> Status:
    engine = open_engine(settings, read_only=True)
    try:
        names = engine.table_names()
        tables = [(n, engine.fetchall(f"SELECT count(*) FROM {n}")[0][0]) for n in names]
        runs, checks = [], []
        if "pipeline_runs" in names:
            runs = engine.fetchall(
                "SELECT run_id, interval_start, interval_end, status, seconds FROM pipeline_runs ORDER BY started_at DESC LIMIT 5")
        if "quality_results" in names:
            checks = engine.fetchall(
                "SELECT model || '.' || check_name, passed, failing_rows, example FROM quality_results "
                "WHERE run_id = (SELECT max(run_id) FROM quality_results) ORDER BY 1")
    finally:
        engine.close()
    lake = Lake(settings.lake)
    published = "nothing yet"
    if lake.exists(MANIFEST):
        manifest = json.loads(lake.read_bytes(MANIFEST))
        published = f"{lake.uri('published')} (run {manifest['run_id']}, {len(manifest['tables'])} tables)"
    return Status(tables, runs, checks, published)
