"""Load benchmark of the read API: simulated users on loopback, one publish mid-run, then the saturation point.

    python bench/api.py --lake /work/ref/lake --json

The published zone is copied first (the publish in the middle writes into the copy). Each simulated user has its
own key and asks, in turn, for a month of hourly stats, 30 days of daily sentiment, a page of posts, or the
monthly aggregate, waiting 1–3 s between requests. Halfway through, a new version is published whose prices are
the previous ones × FACTOR, so every hourly answer proves which version it came from: its prices must equal the
base prices × the factor of the version its header names, or it mixed versions. Bounded: loopback only, at most
MAX_USERS users and MAX_SECONDS per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

HOST = "127.0.0.1"
FACTOR = 1.5
MAX_USERS = 1000
MAX_SECONDS = 300
MANIFEST = "published/_manifest.json"


def publish_marked(lake_root: Path, base: dict, factor: float) -> str:
    """Publish a new version whose fct_coin_hourly prices are `base`'s × `factor` (new files; manifest switched last)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from cryptopulse.lake import Lake

    lake = Lake(lake_root)
    current = json.loads(lake.read_bytes(MANIFEST))
    files = []
    for path in base["tables"]["fct_coin_hourly"]["file_list"]:
        table = pq.read_table(lake.path(path), partitioning=None)
        table = table.set_column(table.schema.get_field_index("price_usd"), "price_usd", pc.multiply(table["price_usd"], factor))
        target = f"{path.rsplit('/', 1)[0]}/part-marked-{uuid.uuid4().hex}.parquet"
        with lake.writing(target) as local:
            pq.write_table(table, local)
        files.append(target)
    version = int(current["version"]) + 1
    current["version"] = version
    current["tables"]["fct_coin_hourly"]["file_list"] = files
    lake.write_bytes(MANIFEST, json.dumps(current).encode())
    return str(version)


@dataclass
class Sample:
    kind: str
    url: str
    status: int
    seconds: float
    version: str | None
    prices: list[float] | None = None


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(lake: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cryptopulse.cli", "serve", "--lake", str(lake), "--host", HOST, "--port", str(port),
           "--workers", str(workers), "--no-access-log"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=2).json()["version"]:
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
    stop_server(proc)
    raise SystemExit("the server did not answer /health within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) the server and its workers have used so far."""
    import psutil

    parent = psutil.Process(proc.pid)
    return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])


def server_rss(proc: subprocess.Popen) -> int:
    """Resident memory of the server and its workers, in bytes."""
    import psutil

    parent = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def request_mix(coins: list[str], months: list[str], days: list[str]) -> dict[str, list[str]]:
    """The URLs a user may ask for, by kind (a user picks a kind, then one of its URLs): known up front, so hourly
    answers can be checked against the base version."""
    months_of = [(c, s, e) for c in coins for s, e in itertools.pairwise(months)]
    return {
        "hourly_month": [f"/v1/coins/{c}/market/hourly?start={s}&end={e}" for c, s, e in months_of],
        "daily_sentiment": [f"/v1/coins/{c}/social?start={s}&end={e}&grain=day" for c, s, e in months_of],
        "posts_page": [f"/v1/coins/{c}/posts?start={d}&end={a}&limit=100" for c in coins for d, a in itertools.pairwise(days[-61:])],
        "monthly": [f"/v1/market/monthly?start={months[0]}&end={months[-1]}"],
    }


def extent(lake: Path) -> tuple[list[str], list[str], list[str]]:
    """Tracked coins, month starts and days of the published version."""
    import datetime as dt

    from cryptopulse.lake import Lake
    from cryptopulse.read import open_snapshot, queries

    with open_snapshot(Lake(lake)) as snap:
        cur = snap.cursor()
        coins = queries.coins(cur).column("coin_id").to_pylist()
        first, last, _ = queries.date_extent(cur).to_pylist()[0].values()
    days = [(first + dt.timedelta(d)).isoformat() for d in range((last - first).days + 2)]
    months = sorted({d[:7] + "-01" for d in days})
    return coins, months, days


async def fetch(client: httpx.AsyncClient, kind: str, url: str, key: str, load: Load) -> None:
    started = time.perf_counter()
    try:
        response = await client.get(url, headers={"X-API-Key": key})
    except httpx.HTTPError as e:
        load.errors.append(f"{url}: {type(e).__name__}")
        return
    seconds = time.perf_counter() - started
    prices = None
    if kind == "hourly_month" and response.status_code == 200:
        prices = [r["price_usd"] for r in response.json()["rows"]]
    load.samples.append(Sample(kind, url, response.status_code, seconds, response.headers.get("X-Published-Version"), prices))
    if response.status_code != 200:
        load.errors.append(f"{url}: HTTP {response.status_code} {response.text[:200]}")


async def user(base_url: str, key: str, urls: dict[str, list[str]], until: float, think: tuple[float, float], load: Load,
               client: httpx.AsyncClient, rng: random.Random) -> None:
    """One user: a request, a pause of `think` seconds (uniform), until `until`."""
    await asyncio.sleep(rng.uniform(0, think[1]))  # users arrive spread out, not all at once
    while time.monotonic() < until:
        kind = rng.choice(sorted(urls))
        url = rng.choice(urls[kind])
        await fetch(client, kind, base_url + url, key, load)
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))


async def run_users(base_url: str, keys: list[str], urls: dict[str, list[str]], seconds: float, think: tuple[float, float],
                    publish_at: float = 0, publish: Callable[[], None] | None = None) -> tuple[Load, float, float | None]:
    """`len(keys)` users for `seconds`; `publish()` runs in a thread after `publish_at` seconds. Returns the load,
    the wall time, and how long the publish took."""
    load = Load()
    limits = httpx.Limits(max_connections=len(keys), max_keepalive_connections=len(keys))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.monotonic()
        until = started + seconds
        tasks = [asyncio.create_task(user(base_url, k, urls, until, think, load, client, random.Random(i))) for i, k in enumerate(keys)]
        publish_seconds = None
        if publish is not None:
            await asyncio.sleep(publish_at)
            t0 = time.perf_counter()
            with ProcessPoolExecutor(1) as pool:  # its own process: the publish must not starve this event loop
                await asyncio.get_running_loop().run_in_executor(pool, publish)
            publish_seconds = time.perf_counter() - t0
        await asyncio.gather(*tasks)
    return load, time.monotonic() - started, publish_seconds


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else (values or [0])[0]


def summary(load: Load, wall: float) -> dict[str, object]:
    ok = [s.seconds for s in load.samples if s.status == 200]
    by_kind = {}
    for kind in sorted({s.kind for s in load.samples}):
        times = [s.seconds for s in load.samples if s.kind == kind and s.status == 200]
        by_kind[kind] = {"requests": len(times), "p50_ms": round(percentile(times, 50) * 1000, 1),
                         "p95_ms": round(percentile(times, 95) * 1000, 1)}
    return {
        "requests": len(load.samples), "errors": len(load.errors), "error_examples": load.errors[:5],
        "throughput_rps": round(len(load.samples) / wall, 1),
        "p50_ms": round(percentile(ok, 50) * 1000, 1), "p95_ms": round(percentile(ok, 95) * 1000, 1),
        "p99_ms": round(percentile(ok, 99) * 1000, 1), "max_ms": round(max(ok, default=0) * 1000, 1), "by_kind": by_kind,
    }


def mixed_versions(load: Load, base_prices: dict[str, list[float]], factors: dict[str, float]) -> tuple[int, int]:
    """(hourly answers checked, answers whose prices do not all belong to the version their header names)."""
    checked = mixed = 0
    for s in load.samples:
        if s.prices is None or s.version not in factors:
            continue
        checked += 1
        mixed += s.prices != [p * factors[s.version] if p is not None else None for p in base_prices[s.url]]
    return checked, mixed


def keys_for(lake: Path, count: int) -> list[str]:
    from cryptopulse.api.keys import create_key
    from cryptopulse.lake import Lake

    return [create_key(Lake(lake), f"bench-user-{i}")[1] for i in range(count)]


def saturation(base_url: str, keys: list[str], urls: dict[str, list[str]], seconds: float, steps: list[int]) -> list[dict]:
    """Users without pauses, more each step; the rate each step reached and its latencies."""
    results = []
    for users in steps:
        load, wall, _ = asyncio.run(run_users(base_url, keys[:users], urls, seconds, (0, 0)))
        results.append({"users": users, **{k: v for k, v in summary(load, wall).items() if k != "by_kind"}})
        print(f"  {users} users without pauses: {results[-1]['throughput_rps']} req/s, p95 {results[-1]['p95_ms']} ms",
              file=sys.stderr)
        if results[-1]["p95_ms"] > 250:
            break
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", default="/work/ref/lake", help="A lake with a published version (copied, never written).")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--saturation-seconds", type=float, default=15, help="Per step; 0 skips the saturation search.")
    parser.add_argument("--steps", default="4,8,16,32,64", help="Users without pauses, one step each.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    if not (0 < args.users <= MAX_USERS and 0 < args.seconds <= MAX_SECONDS and args.saturation_seconds <= MAX_SECONDS):
        raise SystemExit(f"--users must be 1–{MAX_USERS} and --seconds at most {MAX_SECONDS}")
    source = Path(args.lake)
    if not (source / MANIFEST).exists():
        raise SystemExit(f"{source / MANIFEST}: no published version to serve (run `cryptopulse run` first)")

    work = Path(tempfile.mkdtemp(prefix="cryptopulse-bench-api-"))
    lake = work / "lake"
    try:
        shutil.copytree(source / "published", lake / "published")
        result = benchmark(lake, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


def benchmark(lake: Path, args: argparse.Namespace) -> dict[str, object]:
    load_before = os.getloadavg()  # the machine is shared: say how busy it was
    steps = [int(s) for s in args.steps.split(",")]
    keys = keys_for(lake, max(args.users, *steps))
    coins, months, days = extent(lake)
    urls = request_mix(coins, months, days)
    base = json.loads((lake / MANIFEST).read_text())
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    # every user has its own key; the per-key limit is set out of the way (it still runs on every request)
    server = start_server(lake, port, args.workers, {"CRYPTOPULSE_API_VERSION_CHECK": "1", "CRYPTOPULSE_API_RATE": "10000",
                                                     "CRYPTOPULSE_API_BURST": "10000"})
    try:
        base_prices = {}
        for url in urls["hourly_month"]:  # the base version's prices (this also warms the server)
            base_prices[base_url + url] = [r["price_usd"] for r in httpx.get(base_url + url, headers={"X-API-Key": keys[0]},
                                                                             timeout=30).json()["rows"]]
        factors = {str(base["version"]): 1.0, str(int(base["version"]) + 1): FACTOR}
        print(f"{args.users} users for {args.seconds:g} s, publish at {args.seconds / 2:g} s…", file=sys.stderr)
        cpu_before = server_cpu(server)
        load, wall, publish_s = asyncio.run(run_users(base_url, keys[: args.users], urls, args.seconds, (1.0, 3.0),
                                                      args.seconds / 2, partial(publish_marked, lake, base, FACTOR)))
        server_cpu_s = server_cpu(server) - cpu_before
        rss_after_load = server_rss(server)
        checked, mixed = mixed_versions(load, base_prices, factors)
        sat = saturation(base_url, keys, urls, args.saturation_seconds, steps) if args.saturation_seconds > 0 else []
        rss_after_saturation = server_rss(server)
    finally:
        stop_server(server)
    within = [s for s in sat if s["p95_ms"] <= 250 and s["errors"] == 0]
    return {
        "users": args.users, "seconds": args.seconds, "workers": args.workers, "cores": os.cpu_count(),
        "load_average_1_5_15_min_before": load_before, "load_average_1_5_15_min_after": os.getloadavg(),
        "coins": len(coins), "days": len(days) - 1, "distinct_urls": sum(map(len, urls.values())),
        **summary(load, wall),
        "versions_seen": sorted({s.version for s in load.samples if s.version}, key=int),
        "publish_seconds": round(publish_s or 0, 2),
        "server_cpu_ms_per_request": round(server_cpu_s * 1000 / max(1, len(load.samples)), 1),
        "capacity_rps_if_the_cores_were_free": round(os.cpu_count() * len(load.samples) / max(server_cpu_s, 1e-9)),
        "hourly_answers_checked": checked, "mixed_version_answers": mixed,
        "server_rss_mb": round(rss_after_load / 2**20), "server_rss_mb_after_saturation": round(rss_after_saturation / 2**20),
        "saturation_steps": sat,
        "saturation_rps_at_p95_250ms": max((s["throughput_rps"] for s in within), default=None),
    }


if __name__ == "__main__":
    main()
