"""How cost grows with data: wall time and peak RSS of a whole `cryptopulse run` per engine and scale.

    python bench/scale.py --engine duckdb --scale 1 10 100 [--json]
    python bench/scale.py --engine spark --scale 1 10 [--threads 2] [--json]

The raw zone of each scale is generated once into `data/bench/scale-<S>-seed-<N>/` (as `bench/elt.py`
does; not timed). Each (engine, scale) then runs in its own process on a private lake whose raw zone
is hard-linked to that data (raw files are never rewritten), with a fresh warehouse, the engine's
memory limit (`--memory-limit`, default 6GB: DuckDB's `memory_limit`, Spark's driver memory), the engine's
threads (`--threads`, default 0 = every core: DuckDB's `threads`, Spark's `local[N]`) and a spill directory
in the work folder. Reported per run: `wall_s` (the child process, start to exit,
Spark's JVM start included), `run_s` (the pipeline alone), and `peak_rss_mb` — the larger of the
child's `ru_maxrss` (`os.wait4`) and the peak summed RSS of its process tree (Spark's JVM is a
grandchild), sampled every 0.2 s. `--json` prints one object per line per engine and scale.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import ensure_raw, run_worker  # noqa: E402  (bench/ is not a package)


def worker(engine: str, lake: str, work: str, memory_limit: str, batch_days: int, threads: int) -> dict[str, object]:
    """One full run (stage → build + gates → publish) on `engine`, bounded to `memory_limit`; with `batch_days`,
    consecutive runs of that many days over the whole raw zone (`cryptopulse run --batch-days`)."""
    from cryptopulse.config import load_settings
    from cryptopulse.engines import open_engine
    from cryptopulse.models.registry import load_models
    from cryptopulse.pipeline import run, run_in_batches

    settings = load_settings(
        lake=lake, warehouse=str(Path(work) / "warehouse.duckdb"), engine=engine,
        memory_limit=memory_limit, temp_directory=str(Path(work) / "spill"), threads=threads,
    )
    started = time.perf_counter()
    reports = run_in_batches(settings, None, batch_days) if batch_days else [run(settings)]
    run_s = time.perf_counter() - started
    engine_ = open_engine(settings, read_only=True)
    try:
        rows = {m.name: engine_.fetchall(f"SELECT count(*) FROM {m.name}")[0][0] for m in load_models()}
    finally:
        engine_.close()
    steps: dict[str, float] = {}
    for report in reports:
        for step, seconds in report.steps.items():
            steps[step] = steps.get(step, 0.0) + seconds
    return {"run_s": run_s, "steps_s": steps, "rows": rows, "runs": len(reports),
            "checks_passed": sum(len(r.checks) for r in reports)}


def measure(engine: str, scale: float, seed: int, memory_limit: str, batch_days: int, threads: int) -> dict[str, object]:
    """Run one (engine, scale) in a child process on a private lake; add its wall time and peak RSS."""
    raw = ensure_raw(scale, seed)
    with tempfile.TemporaryDirectory(prefix=f"scale-{engine}-", dir=ROOT / "data" / "bench") as work:
        lake = Path(work) / "lake"
        shutil.copytree(raw / "raw", lake / "raw", copy_function=os.link)
        result_file = Path(work) / "result.json"
        args = ["--worker", engine, "--lake", str(lake), "--work", work, "--memory-limit", memory_limit,
                "--batch-days", str(batch_days), "--threads", str(threads), "--result", str(result_file)]
        peaks: list[TreePeak] = []
        started = time.perf_counter()
        try:
            result, child_peak = run_worker(__file__, args, result_file, on_start=lambda pid: peaks.append(TreePeak(pid)))
        finally:
            for sampler in peaks:
                sampler.stop()
        wall = time.perf_counter() - started
    peak = max(child_peak, peaks[0].bytes)
    return {"engine": engine, "scale": scale, "wall_s": round(wall, 2), "run_s": round(result["run_s"], 2),
            "peak_rss_mb": round(peak / 2**20, 1), "memory_limit": memory_limit, "threads": threads,
            "steps_s": {k: round(v, 2) for k, v in result["steps_s"].items()}, "batch_days": batch_days, "runs": result["runs"],
            "rows": result["rows"], "checks_passed": result["checks_passed"], "cpus": os.cpu_count()}


class TreePeak:
    """Samples the summed RSS of a process and its descendants in a thread; keeps the peak."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.bytes = 0
        self._root = psutil.Process(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every_s,), daemon=True)
        self._thread.start()

    def _sample(self, every_s: float) -> None:
        while not self._done.wait(every_s):
            try:
                procs = [self._root, *self._root.children(recursive=True)]
                self.bytes = max(self.bytes, sum(_rss(p) for p in procs))
            except psutil.Error:
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _rss(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--batch-days", type=int, default=0, help="consecutive runs of N days (0: one run over everything)")
    parser.add_argument("--threads", type=int, default=0, help="engine threads, Spark's local[N] (0: every core)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=("duckdb", "spark"))
    parser.add_argument("--lake")
    parser.add_argument("--work")
    parser.add_argument("--result")
    args = parser.parse_args()

    if args.worker:
        result = worker(args.worker, args.lake, args.work, args.memory_limit, args.batch_days, args.threads)
        Path(args.result).write_text(json.dumps(result))
        return
    for scale in args.scale:
        result = measure(args.engine, scale, args.seed, args.memory_limit, args.batch_days, args.threads)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"{result['engine']:<7} scale {scale:<5g} wall {result['wall_s']:>8.1f} s  run {result['run_s']:>8.1f} s  "
                  f"peak RSS {result['peak_rss_mb']:>8.0f} MB  ({result['rows'].get('fct_post', 0):,} posts)", flush=True)


if __name__ == "__main__":
    main()
