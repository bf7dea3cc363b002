"""Benchmark the ELT at reference scale: cryptopulse on DuckDB vs the same steps in pandas, side by side.

    python bench/elt.py --scale 1 [--repeat 3] [--json]

The reference dataset is generated once into `data/bench/scale-<S>/raw` (not timed). Each variant then
runs in its own process on a fresh copy of the raw zone, so peak RSS is measured per variant
(`os.wait4`). Reported: per-step and total wall time (median of the repeats), peak RSS, and the ratio
pandas / DuckDB. `--json` prints {"total_s", "pandas_s", "ratio", "peak_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import ensure_raw, run_worker  # noqa: E402  (bench/ is not a package)


def worker_duckdb(lake: str, work: str) -> dict[str, object]:
    """One full `cryptopulse run` (stage → build + gates → publish) with per-step times."""
    from cryptopulse.config import load_settings
    from cryptopulse.pipeline import run

    settings = load_settings(lake=lake, warehouse=str(Path(work) / "warehouse.duckdb"))
    started = time.perf_counter()
    report = run(settings)
    total = time.perf_counter() - started
    models = {m.name: m.seconds for m in report.models}
    steps = {
        "stage": report.steps["stage"],
        "dims": sum(v for k, v in models.items() if k.startswith("dim_")),
        "facts": sum(v for k, v in models.items() if k.startswith(("fct_", "bridge_"))),
        "aggregate": models["agg_coin_monthly"],
        "gates": report.steps["build"] - sum(models.values()),
        "publish": report.steps["publish"],
    }
    rows = {m.name: m.rows_written for m in report.models}
    return {"total_s": total, "steps_s": steps, "rows": rows, "checks_passed": len(report.checks)}


def worker_pandas(lake: str, work: str) -> dict[str, object]:
    from pandas_baseline import run_pandas

    started = time.perf_counter()
    result = run_pandas(lake, str(Path(work) / "out"))
    return {"total_s": time.perf_counter() - started, **result}


WORKERS = {"duckdb": worker_duckdb, "pandas": worker_pandas}


def run_variant(variant: str, raw_lake: Path) -> dict[str, object]:
    """Run one variant in a child process on a private copy of the raw zone; add its peak RSS."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-", dir=ROOT / "data" / "bench") as work:
        lake = Path(work) / "lake"
        shutil.copytree(raw_lake / "raw", lake / "raw")
        out = Path(work) / "result.json"
        result, peak = run_worker(__file__, ["--worker", variant, "--lake", str(lake), "--work", work, "--result", str(out)], out)
    result["peak_rss_mb"] = peak / 2**20
    return result


def median_run(variant: str, raw_lake: Path, repeat: int) -> dict[str, object]:
    runs = [run_variant(variant, raw_lake) for _ in range(repeat)]
    best = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    best["total_s_all"] = [round(r["total_s"], 3) for r in runs]
    best["total_s"] = statistics.median(r["total_s"] for r in runs)
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=WORKERS)
    parser.add_argument("--lake")
    parser.add_argument("--work")
    parser.add_argument("--result")
    args = parser.parse_args()

    if args.worker:
        Path(args.result).write_text(json.dumps(WORKERS[args.worker](args.lake, args.work)))
        return

    raw = ensure_raw(args.scale, args.seed)
    duck = median_run("duckdb", raw, args.repeat)
    pandas = None if args.skip_pandas else median_run("pandas", raw, args.repeat)
    summary = {
        "scale": args.scale,
        "total_s": round(duck["total_s"], 3),
        "steps_s": {k: round(v, 3) for k, v in duck["steps_s"].items()},
        "peak_rss_mb": round(duck["peak_rss_mb"], 1),
        "pandas_s": round(pandas["total_s"], 3) if pandas else None,
        "pandas_steps_s": {k: round(v, 3) for k, v in pandas["steps_s"].items()} if pandas else None,
        "pandas_peak_rss_mb": round(pandas["peak_rss_mb"], 1) if pandas else None,
        "ratio": round(pandas["total_s"] / duck["total_s"], 2) if pandas else None,
        "rows": duck["rows"],
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
    }
    if pandas:
        summary["rows_equal"] = all(pandas["rows"].get(k) == v for k, v in duck["rows"].items())
    if args.json:
        print(json.dumps(summary))
        return
    print(f"scale {args.scale:g}: {sum(duck['rows'].get(t, 0) for t in ('fct_post',)):,} posts")
    print(f"{'step':<12}{'duckdb s':>10}{'pandas s':>10}")
    for step, seconds in summary["steps_s"].items():
        theirs = (summary["pandas_steps_s"] or {}).get(step)
        print(f"{step:<12}{seconds:>10.2f}{(f'{theirs:.2f}' if theirs is not None else '-'):>10}")
    print(f"{'total':<12}{summary['total_s']:>10.2f}{(summary['pandas_s'] or 0):>10.2f}")
    print(f"peak RSS: duckdb {summary['peak_rss_mb']:.0f} MB, pandas {summary['pandas_peak_rss_mb'] or 0:.0f} MB")
    if pandas:
        print(f"ratio pandas/duckdb: {summary['ratio']:.1f}×  (row counts equal: {summary['rows_equal']})")


if __name__ == "__main__":
    main()
