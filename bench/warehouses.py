"""Benchmark the warehouse load at reference scale: the same staged zone built and published on PostgreSQL and DuckDB.

    python bench/warehouses.py [--scale 1] [--postgres postgresql://…] [--json] [--save summary.json]

The raw zone comes from bench/elt.py (`data/bench/scale-<S>-seed-<N>/raw`, generated there on first use).
It is staged once (timed, shared); then each engine, in its own process on a private copy of the staged
zone, loads it (DuckDB: views over the files; PostgreSQL: COPY … FROM STDIN), builds every model, runs the
gates and publishes Parquet. Without --postgres a PostgreSQL 15 server is started for the run (durable
settings: fsync on, shared_buffers 2 GB, work_mem 256 MB) and stopped and removed after. Reported per engine: time per
step, total, peak RSS of the cryptopulse process (the PostgreSQL server's own memory is not included), and
whether every table has the same row count on both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from common import run_worker  # noqa: E402  (bench/ is not a package)

BENCH_PG_SETTINGS = "-c shared_buffers=2GB -c work_mem=256MB -c maintenance_work_mem=512MB -c max_wal_size=4GB"


def worker(lake: str, warehouse: str) -> dict[str, object]:
    """Load, build + gates, publish for every staged day, timing each step (what `build_step` + `publish_step` do)."""
    from cryptopulse.config import load_settings
    from cryptopulse.engines import open_engine
    from cryptopulse.lake import Lake
    from cryptopulse.models.build import build_models, load_system_tables
    from cryptopulse.pipeline import publish_step, staged_interval
    from cryptopulse.quality import run_checks

    settings = load_settings(lake=lake, warehouse=warehouse)
    interval = staged_interval(Lake(lake), None)
    steps: dict[str, float] = {}
    db = open_engine(settings)
    try:
        started = time.perf_counter()
        db.attach_staged(Lake(lake), interval.days())
        steps["load"] = time.perf_counter() - started
        db.begin()
        models = build_models(db, interval)
        steps["models"] = sum(m.seconds for m in models)
        started = time.perf_counter()
        load_system_tables(db, interval)
        checks = run_checks(db, interval, settings.freshness_hours)
        steps["gates"] = time.perf_counter() - started
        db.commit()
    finally:
        db.close()
    started = time.perf_counter()
    published = publish_step(settings, interval)
    steps["publish"] = time.perf_counter() - started
    return {
        "steps_s": steps,
        "total_s": sum(steps.values()),
        "models_s": {m.name: m.seconds for m in models},
        "rows": {t.name: t.rows for t in published},
        "checks_failed": [c.label for c in checks if not c.passed],
    }


def run_engine(engine: str, staged_lake: Path, warehouse: str, work: Path) -> dict[str, object]:
    """One engine in a child process on its own copy of the staged zone."""
    lake = work / engine / "lake"
    shutil.copytree(staged_lake / "staged", lake / "staged")
    return run_child(engine, lake, warehouse, work / engine / "result.json")


def run_child(kind: str, lake: Path, warehouse: str, out: Path) -> dict[str, object]:
    """`--worker kind` in a child process; adds its peak RSS. The parent stays small, since a child starts
    with the parent's peak RSS (kept across fork and exec)."""
    result, peak = run_worker(__file__, ["--worker", kind, "--lake", str(lake), "--warehouse", warehouse, "--result", str(out)], out)
    result["peak_rss_mb"] = peak / 2**20
    return result


def stage(lake: str) -> dict[str, object]:
    from cryptopulse.config import load_settings
    from cryptopulse.pipeline import stage_step

    started = time.perf_counter()
    stage_step(load_settings(lake=lake), None)
    return {"total_s": time.perf_counter() - started}


def stage_once(raw_lake: Path, work: Path) -> tuple[Path, float]:
    """Stage a copy of the raw zone (in a child process); returns the lake and the seconds it took."""
    lake = work / "staged-lake"
    shutil.copytree(raw_lake / "raw", lake / "raw")
    return lake, float(run_child("stage", lake, "-", work / "stage.json")["total_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres", help="An empty PostgreSQL database (C collation); default: start a server for the run.")
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON instead of a table.")
    parser.add_argument("--save", help="Also write the JSON summary to this file.")
    parser.add_argument("--worker", choices=("stage", "duckdb", "postgres"))
    parser.add_argument("--lake")
    parser.add_argument("--warehouse")
    parser.add_argument("--result")
    args = parser.parse_args()

    if args.worker:
        result = stage(args.lake) if args.worker == "stage" else worker(args.lake, args.warehouse)
        Path(args.result).write_text(json.dumps(result))
        return

    from common import ensure_raw
    from services import start_postgres, stop_postgres

    raw = ensure_raw(args.scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-warehouses-", dir=ROOT / "data" / "bench"))
    server = None
    try:
        staged, stage_s = stage_once(raw, work)
        url = args.postgres
        if url is None:
            pg, server = start_postgres(Path(tempfile.mkdtemp(prefix="bench-pg-")), BENCH_PG_SETTINGS)
            url = pg.create_database("bench")
        results = {
            "duckdb": run_engine("duckdb", staged, str(work / "duckdb" / "warehouse.duckdb"), work),
            "postgres": run_engine("postgres", staged, url, work),
        }
    finally:
        if server is not None:
            stop_postgres(server)
            shutil.rmtree(server.parent, ignore_errors=True)  # the server's folder (~2 GB at scale 1)
        shutil.rmtree(work, ignore_errors=True)
    report(args, stage_s, results)


def report(args: argparse.Namespace, stage_s: float, results: dict[str, dict[str, object]]) -> None:
    duck, pg = results["duckdb"], results["postgres"]
    summary = {
        "scale": args.scale,
        "stage_s": round(stage_s, 3),
        **{
            name: {
                "total_s": round(r["total_s"], 3),
                "steps_s": {k: round(v, 3) for k, v in r["steps_s"].items()},
                "models_s": {k: round(v, 3) for k, v in r["models_s"].items()},
                "peak_rss_mb": round(r["peak_rss_mb"], 1),
                "checks_failed": r["checks_failed"],
            }
            for name, r in results.items()
        },
        "ratio_postgres_duckdb": round(pg["total_s"] / duck["total_s"], 2),
        "rows": duck["rows"],
        "rows_equal": duck["rows"] == pg["rows"],
        "cpus": os.cpu_count(),
    }
    if args.save:
        Path(args.save).write_text(json.dumps(summary, indent=1))
    if args.json:
        print(json.dumps(summary))
        return
    print(f"scale {args.scale:g}: {duck['rows'].get('fct_post', 0):,} posts; staging (shared, DuckDB) {stage_s:.2f} s")
    print(f"{'step':<24}{'duckdb s':>10}{'postgres s':>12}")
    for step in duck["steps_s"]:
        print(f"{step:<24}{duck['steps_s'][step]:>10.2f}{pg['steps_s'][step]:>12.2f}")
    for model in duck["models_s"]:
        print(f"  {model:<22}{duck['models_s'][model]:>10.2f}{pg['models_s'][model]:>12.2f}")
    print(f"{'total':<24}{duck['total_s']:>10.2f}{pg['total_s']:>12.2f}")
    print(f"{'peak RSS (client) MB':<24}{duck['peak_rss_mb']:>10.0f}{pg['peak_rss_mb']:>12.0f}")
    print(f"postgres / duckdb: {summary['ratio_postgres_duckdb']:.1f}×  (row counts equal: {summary['rows_equal']})")


if __name__ == "__main__":
    main()
