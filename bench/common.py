"""What the benchmarks share: the generated reference raw zone, and running one measured worker in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ensure_raw(scale: float, seed: int) -> Path:
    """The raw zone of the reference dataset at `scale`, generated on first use (not timed)."""
    from cryptopulse.lake import Lake
    from cryptopulse.sources.synthetic import generate

    lake = ROOT / "data" / "bench" / f"scale-{scale:g}-seed-{seed}"
    if not (lake / "raw" / "synthetic" / "manifest.json").exists():
        print(f"generating the reference dataset at scale {scale:g} into {lake} (not timed)…", file=sys.stderr)
        generate(Lake(str(lake)), scale=scale, seed=seed)
    return lake


def run_worker(script: str, args: list[str], result_file: Path, on_start=None) -> tuple[dict[str, object], int]:
    """`python script *args` in a child process that writes its JSON result to `result_file`; returns the result
    and the child's peak RSS in bytes (`os.wait4`'s ru_maxrss). A child starts with its own peak, not the
    parent's, since it is a fresh exec. `on_start(pid)` is called once the child runs (e.g. to sample its tree)."""
    proc = subprocess.Popen([sys.executable, script, *args])
    if on_start is not None:
        on_start(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{Path(script).name} {' '.join(args[:2])} failed (exit {code})")
    return json.loads(result_file.read_text()), usage.ru_maxrss * 1024
