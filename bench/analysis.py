"""Benchmark `cryptopulse analyze` at reference scale, its result checked against a recorded reference.

    python bench/analysis.py [--scale 1] [--from DIR] [--charts] [--repeat 1] [--json]
    python bench/analysis.py --record FILE        # write the reference (run it with the code to compare against)

Before and after cannot run side by side in one checkout, so each run's result is compared with a reference
recorded by the earlier code (`bench/reference/analyze-scale-1-seed-42.json`: the `analyze --json` summary and a
SHA-256 of every row of `analysis_lead_lag`), and the time is reported with the machine's load.
The enriched reference dataset (generate → run → enrich, not timed) is built once under `data/bench/`, or copied
from `--from DIR` (a folder holding `lake/` and `warehouse.duckdb`). Each repeat copies it (not timed) and runs
`cryptopulse analyze --json --no-charts` (`--charts`: with the PNGs) as a child process: wall, CPU (user + sys of
the process and its threads), peak RSS. `--json` prints {"wall_s", "cpu_s", "peak_rss_mb", "exact", "printed", ...}:
`exact` — summary and every test row equal to the reference bit for bit; `printed` — equal at the precision the
plain summary prints (r to 3 decimals, corrected p to 2 significant digits, verdicts, lags, VAR orders).
"""

from __future__ import annotations

import argparse
import hashlib
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
sys.path.insert(0, str(ROOT / "bench"))

from common import ensure_raw  # noqa: E402  (bench/ is not a package)

REFERENCE = "bench/reference/analyze-scale-{scale:g}-seed-{seed}.json"


def ensure_enriched(scale: float, seed: int) -> Path:
    """A lake and warehouse of the reference dataset, run and enriched once (not timed)."""
    from cryptopulse.analysis.enrich import enrich
    from cryptopulse.config import load_settings
    from cryptopulse.pipeline import run

    folder = ROOT / "data" / "bench" / f"enriched-scale-{scale:g}-seed-{seed}"
    if not (folder / "done").exists():
        print(f"running and enriching the reference dataset into {folder} (not timed)…", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(ensure_raw(scale, seed) / "raw", folder / "lake" / "raw")
        settings = load_settings(lake=str(folder / "lake"), warehouse=str(folder / "warehouse.duckdb"))
        run(settings)
        enrich(settings)
        (folder / "done").write_text("ok\n")
    return folder


def timed_command(source: Path, args: list[str]) -> dict[str, object]:
    """`cryptopulse *args` as a child process on a fresh copy of `source`: wall, CPU, peak RSS, its stdout,
    and the copy (the caller removes it)."""
    (ROOT / "data" / "bench").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / "data" / "bench"))
    shutil.copytree(source / "lake", work / "lake")
    shutil.copy2(source / "warehouse.duckdb", work / "warehouse.duckdb")
    env = {**os.environ, "CRYPTOPULSE_LAKE": str(work / "lake"), "CRYPTOPULSE_WAREHOUSE": str(work / "warehouse.duckdb")}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "cryptopulse"), *args], env=env, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"cryptopulse {' '.join(args)} failed")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "load_1min": load, "stdout": out.decode(), "work": work}


def tests_digest(warehouse: Path) -> tuple[int, str]:
    """Row count and SHA-256 of every row of analysis_lead_lag in key order (floats by their exact repr)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT * FROM analysis_lead_lag ORDER BY coin_id, series, test, lag").fetchall()
    finally:
        con.close()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def printed(summary: dict[str, object]) -> dict[str, object]:
    """The summary at the precision `cryptopulse analyze` prints it."""
    def best(b: dict) -> tuple:
        return b["lag"], b["sign"], f"{b['r']:+.3f}", f"{b['p_adjusted']:.2g}", b["significant"]

    return {
        coin: ({s: best(c[s]) for s in ("sentiment", "volume")},
               {name: (g["order"], f"{g['p_adjusted']:.2g}", g["significant"]) for name, g in c["granger"].items()})
        for coin, c in summary["coins"].items()
    }


def result_of(run: dict[str, object]) -> dict[str, object]:
    """What a run found: its summary (without the chart paths, which name the copy) and its test rows' digest."""
    summary = {k: v for k, v in json.loads(run["stdout"]).items() if k != "charts"}
    rows, digest = tests_digest(run["work"] / "warehouse.duckdb")
    return {"summary": summary, "tests": rows, "tests_sha256": digest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--from", dest="source", type=Path, default=None, help="a folder with lake/ and warehouse.duckdb")
    parser.add_argument("--charts", action="store_true", help="draw the PNG charts too")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--record", type=Path, default=None, help="write the result as the reference to this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    source = args.source or ensure_enriched(args.scale, args.seed)
    command = ["analyze", "--json", *([] if args.charts else ["--no-charts"])]
    runs, found = [], None
    for _ in range(args.repeat):
        run = timed_command(source, command)
        found = result_of(run)
        shutil.rmtree(run["work"])
        runs.append(run)
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps({"command": f"cryptopulse {' '.join(command)}", **found}, indent=1) + "\n")
    reference = json.loads((ROOT / REFERENCE.format(scale=args.scale, seed=args.seed)).read_text())
    result = {
        "command": f"cryptopulse {' '.join(command)}",
        "coins": len(found["summary"]["coins"]),
        "tests": found["tests"],
        "wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
        "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "load_1min": [round(r["load_1min"], 1) for r in runs],
        "exact": found["summary"] == reference["summary"] and found["tests_sha256"] == reference["tests_sha256"],
        "printed": printed(found["summary"]) == printed(reference["summary"]),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['command']}: {result['coins']} coins, {result['tests']:,} tests")
    print(f"wall {result['wall_s']} s, CPU {result['cpu_s']} s, peak RSS {result['peak_rss_mb']} MB (load {result['load_1min']})")
    print(f"equal to the reference: bit for bit {result['exact']}, at printed precision {result['printed']}")


if __name__ == "__main__":
    main()
