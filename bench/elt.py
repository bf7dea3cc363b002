"""Benchmark the ELT at reference scale: cryptopulse on DuckDB vs the yardstick and a pandas version, side by side.

    python bench/elt.py --scale 1 [--repeat 3] [--skip-pandas] [--json]

The reference dataset is generated once into `data/bench/scale-<S>/raw` (not timed). Each variant then
runs in its own process on a fresh copy of the raw zone, so peak RSS is measured per variant
(`os.wait4`); the repeats alternate the variants. Variants: `cryptopulse run`; the yardstick — the two
hand-written one-file jobs in `../shared/yardstick/` (Polars, and one DuckDB script), run from there when
present, never copied in, timed as whole processes; and the pandas baseline. Reported: per-step and total
wall time (median of the repeats), peak RSS, the ratio to the faster yardstick job and pandas / DuckDB.
`--json` prints {"total_s", "yardstick_s", "ratio_yardstick", "pandas_s", "ratio", "peak_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YARDSTICK = ROOT.parent / "shared" / "yardstick"
YARDSTICK_JOBS = {"yardstick_polars": "anchor_polars.py", "yardstick_duckdb": "run_duckdb.py"}
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


def yardstick_worker(script: str):
    """A yardstick job as a whole process (interpreter start included): raw zone → its four published tables."""

    def worker(lake: str, work: str) -> dict[str, object]:
        started = time.perf_counter()
        subprocess.run([sys.executable, str(YARDSTICK / script), f"{lake}/raw/synthetic", f"{work}/out"], check=True,
                       stdout=subprocess.DEVNULL)
        return {"total_s": time.perf_counter() - started}

    return worker


WORKERS = {"duckdb": worker_duckdb, "pandas": worker_pandas, **{k: yardstick_worker(v) for k, v in YARDSTICK_JOBS.items()}}


def run_variant(variant: str, raw_lake: Path) -> dict[str, object]:
    """Run one variant in a child process on a private copy of the raw zone; add its peak RSS."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-", dir=ROOT / "data" / "bench") as work:
        lake = Path(work) / "lake"
        shutil.copytree(raw_lake / "raw", lake / "raw")
        out = Path(work) / "result.json"
        result, peak = run_worker(__file__, ["--worker", variant, "--lake", str(lake), "--work", work, "--result", str(out)], out)
    result["peak_rss_mb"] = peak / 2**20
    return result


def alternating_runs(variants: list[str], raw_lake: Path, repeat: int) -> dict[str, dict[str, object]]:
    """`repeat` rounds, each running every variant once, so that load drifts hit every variant alike."""
    runs: dict[str, list[dict[str, object]]] = {v: [] for v in variants}
    for _ in range(repeat):
        for variant in variants:
            runs[variant].append(run_variant(variant, raw_lake))
    return {v: summarise(r) for v, r in runs.items()}


def summarise(runs: list[dict[str, object]]) -> dict[str, object]:
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
    yardsticks = list(YARDSTICK_JOBS) if YARDSTICK.is_dir() else []
    results = alternating_runs(["duckdb", *yardsticks, *([] if args.skip_pandas else ["pandas"])], raw, args.repeat)
    duck, pandas = results["duckdb"], results.get("pandas")
    fastest = min(yardsticks, key=lambda v: results[v]["total_s"]) if yardsticks else None
    summary = {
        "scale": args.scale,
        "total_s": round(duck["total_s"], 3),
        "steps_s": {k: round(v, 3) for k, v in duck["steps_s"].items()},
        "peak_rss_mb": round(duck["peak_rss_mb"], 1),
        "total_s_all": duck["total_s_all"],
        "yardstick_s": round(results[fastest]["total_s"], 3) if fastest else None,
        "yardstick_job": fastest,
        "yardstick_peak_rss_mb": round(results[fastest]["peak_rss_mb"], 1) if fastest else None,
        "ratio_yardstick": round(duck["total_s"] / results[fastest]["total_s"], 2) if fastest else None,
        "yardstick_all_s": {v: results[v]["total_s_all"] for v in yardsticks},
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
    if fastest:
        print(f"yardstick ({fastest}): {summary['yardstick_s']:.2f} s, {summary['yardstick_peak_rss_mb']:.0f} MB; "
              f"cryptopulse run / yardstick = {summary['ratio_yardstick']:.2f}×")
    if pandas:
        print(f"ratio pandas/duckdb: {summary['ratio']:.1f}×  (row counts equal: {summary['rows_equal']})")


if __name__ == "__main__":
    main()
