"""The run log in the lake (`ops/runs/<run_id>.json`): one immutable file per run, whatever its outcome.

Every run writes its record here when it ends — published, gate failed, failed or refused — so readers learn
about runs that published nothing without opening the writer's warehouse.
"""

from __future__ import annotations

import json

from cryptopulse.lake.store import Lake

RUNS_DIR = "ops/runs"


def write_run(lake: Lake, record: dict) -> None:
    """Write one run's record (keys as in `recent_runs`) atomically."""
    lake.write_bytes(f"{RUNS_DIR}/{record['run_id']}.json", json.dumps(record, default=str, indent=1).encode())


def unrecorded_runs(lake: Lake, known: set[str]) -> list[dict]:
    """Records of the runs whose id is not in `known`, oldest first; reads only those files."""
    paths = [p for p in lake.glob(f"{RUNS_DIR}/*.json") if p.rsplit("/", 1)[-1].removesuffix(".json") not in known]
    return _read(lake, sorted(paths))


def recent_runs(lake: Lake, limit: int = 20) -> list[dict]:
    """The newest `limit` run records, newest first (run ids sort by start time).

    Keys: run_id, started_at, finished_at, interval_start, interval_end, status (`ok`, `gate_failed`, `failed`,
    `refused`), seconds, steps_s, staged, checks (list of {model, check, passed, failing_rows, example}),
    published_version (None unless it published), error (one line, or None).
    """
    return _read(lake, sorted(lake.glob(f"{RUNS_DIR}/*.json"), reverse=True)[:limit])


def _read(lake: Lake, paths: list[str]) -> list[dict]:
    runs = []
    for path in paths:
        try:
            runs.append(json.loads(lake.read_bytes(path)))
        except ValueError:
            continue  # a record is written whole (atomic write); an unparsable one is not ours
    return runs
