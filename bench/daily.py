"""Benchmark the daily increment: one new day into a warehouse that already holds the history, as a process.

    python bench/daily.py --scale 1 [--repeat 5] [--json]

What the daily DAG does each morning. The reference raw zone (generated once, not timed) is run up to the
day before a target day (not timed); then `cryptopulse run --start DAY --end DAY+1` runs as a child process
`--repeat` times (a rerun of a day does the same work: stage, build, gates, publish), timed whole — interpreter
start, imports and all — with its peak RSS. Two targets: the raw zone's last day (history ≈ 520 days at
scale 1) and its 52nd day (history 51 days); their ratio shows whether a day's cost grows with the history.
`--json` prints {"late_day_s", "early_day_s", "ratio_late_early", "late_steps_s", "peak_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
sys.path.insert(0, str(ROOT / "bench"))

from common import ensure_raw  # noqa: E402  (bench/ is not a package)


def prepare(raw: Path, work: Path, day: dt.date) -> dict[str, str]:
    """A private lake and warehouse holding every day before `day` (not timed); the environment selecting them."""
    from cryptopulse.config import load_settings
    from cryptopulse.interval import Interval
    from cryptopulse.pipeline import run

    shutil.copytree(raw / "raw", work / "lake" / "raw")
    settings = load_settings(lake=str(work / "lake"), warehouse=str(work / "warehouse.duckdb"))
    first = raw_days(raw)[0]
    run(settings, Interval(first, day))
    return {"CRYPTOPULSE_LAKE": settings.lake, "CRYPTOPULSE_WAREHOUSE": settings.warehouse}


def in_child(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a fresh process: the runs timed next are forked from this small one, and a child's
    peak RSS counts the memory of the process it was forked from (the whole history's run, here)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def raw_days(raw: Path) -> tuple[dt.date, dt.date]:
    """First and last day of the reference raw zone (from its generator manifest)."""
    manifest = json.loads((raw / "raw" / "synthetic" / "manifest.json").read_text())
    return dt.date.fromisoformat(manifest["start"][:10]), dt.date.fromisoformat(manifest["end"][:10]) - dt.timedelta(days=1)


def time_day(env: dict[str, str], day: dt.date, repeat: int) -> dict[str, object]:
    """`cryptopulse run` over one day as a child process, `repeat` times: wall, steps inside, peak RSS."""
    walls, inside, peak = [], [], 0
    command = [str(Path(sys.executable).parent / "cryptopulse"), "run", "--json",
               "--start", str(day), "--end", str(day + dt.timedelta(days=1))]
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"cryptopulse run over {day} failed")
        inside.append(json.loads(out)["steps_s"])
        peak = max(peak, usage.ru_maxrss * 1024)
    middle = sorted(range(repeat), key=lambda i: walls[i])[repeat // 2]
    return {"wall_s": statistics.median(walls), "wall_s_all": [round(w, 3) for w in walls], "steps_s": inside[middle],
            "peak_rss_mb": round(peak / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    raw = ensure_raw(args.scale, args.seed)
    first, last = raw_days(raw)
    targets = {"late": last, "early": first + dt.timedelta(days=min(51, (last - first).days // 2))}
    results = {}
    (ROOT / "data" / "bench").mkdir(parents=True, exist_ok=True)
    for label, day in targets.items():
        with tempfile.TemporaryDirectory(prefix=f"bench-daily-{label}-", dir=ROOT / "data" / "bench") as work:
            env = in_child(prepare, raw, Path(work), day)
            results[label] = {"day": str(day), "history_days": (day - first).days, **time_day(env, day, args.repeat)}
    summary = {
        "scale": args.scale,
        "late_day_s": round(results["late"]["wall_s"], 3),
        "early_day_s": round(results["early"]["wall_s"], 3),
        "ratio_late_early": round(results["late"]["wall_s"] / results["early"]["wall_s"], 2),
        "late_steps_s": results["late"]["steps_s"],
        "early_steps_s": results["early"]["steps_s"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results.values()),
        "runs": results,
        "repeat": args.repeat,
    }
    if args.json:
        print(json.dumps(summary))
        return
    for label, r in results.items():
        steps = "  ".join(f"{k} {v:.2f}" for k, v in r["steps_s"].items())
        print(f"{label:>5} day {r['day']} (history {r['history_days']} days): {r['wall_s']:.2f} s wall  [{steps}]  "
              f"{r['peak_rss_mb']:.0f} MB")
    print(f"late / early = {summary['ratio_late_early']:.2f}")


if __name__ == "__main__":
    main()
