"""Run `airflow standalone` for this project on 127.0.0.1 (what `make airflow` does), or check that it comes up healthy.

    python scripts/airflow_standalone.py serve            # foreground, AIRFLOW_HOME=data/airflow; prints URL and login
    python scripts/airflow_standalone.py check            # throwaway home and ports: wait for health and the DAG, stop
    python scripts/airflow_standalone.py check --run-day 2024-05-20   # … and let the scheduler run that day, offline

Every setting below can be overridden from the environment (e.g. `CRYPTOPULSE_OFFLINE=0 make airflow`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "cryptopulse_daily"
HEALTHY_WITHIN_S = 180


# Offline, the schedule covers the last week of the reference dataset, so switching the DAG on runs those seven days.
OFFLINE_SCHEDULE = {"CRYPTOPULSE_AIRFLOW_START_DATE": "2024-05-25", "CRYPTOPULSE_AIRFLOW_END_DATE": "2024-05-31",
                    "CRYPTOPULSE_AIRFLOW_CATCHUP": "true"}


def project_env(home: Path, port: int, data: Path, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The standalone's environment: our DAGs folder, modest parallelism, loopback only, the pipeline's files under `data`."""
    url = f"http://127.0.0.1:{port}"
    defaults = {
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,  # tasks reach the execution API at {base_url}/execution/
        "CRYPTOPULSE_OFFLINE": "1",
        "CRYPTOPULSE_LAKE": str(data / "lake"),
        "CRYPTOPULSE_WAREHOUSE": str(data / "warehouse.duckdb"),
        "CRYPTOPULSE_REFERENCE": str(data / "reference"),
    }
    env = {**defaults, **os.environ, **(overrides or {})}
    if env["CRYPTOPULSE_OFFLINE"].lower() in ("1", "true", "yes"):
        env = {**OFFLINE_SCHEDULE, **env}
    fixed = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    return {**env, **fixed}


@contextlib.contextmanager
def standalone(env: dict[str, str], quiet: bool) -> Iterator[subprocess.Popen[bytes]]:
    """`airflow standalone` in its own process group, stopped (the whole group) on exit."""
    output = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen([str(BIN / "airflow"), "standalone"], env=env, cwd=ROOT, stdout=output, stderr=output, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace_s: float = 30) -> None:
    """SIGTERM the standalone's process group (scheduler, API server, …), SIGKILL what is left after `grace_s`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _group_alive(proc):
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    proc.poll()  # reap the leader, so only live members answer
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_healthy(url: str, proc: subprocess.Popen[bytes], within: float = HEALTHY_WITHIN_S) -> float:
    """Seconds until every component reports healthy; RuntimeError if the server dies or takes too long."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with code {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError, ValueError):
            health = httpx.get(f"{url}/api/v2/monitor/health", timeout=2).json()
            if all(part.get("status") == "healthy" for part in health.values()):
                return time.monotonic() - started
        time.sleep(1)
    raise RuntimeError(f"airflow standalone not healthy after {within:.0f} s")


def login(home: Path) -> tuple[str, str]:
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    return "admin", passwords["admin"]


def api_client(url: str, home: Path) -> httpx.Client:
    user, password = login(home)
    token = httpx.post(f"{url}/auth/token", json={"username": user, "password": password}, timeout=30).json()["access_token"]
    return httpx.Client(base_url=f"{url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def wait_for_dag(api: httpx.Client, within: float = 60) -> dict:
    """The DAG as the API lists it, once parsed; RuntimeError on an import error or when it does not appear."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        with contextlib.suppress(httpx.HTTPError):
            errors = api.get("/importErrors").json()["import_errors"]
            if errors:
                raise RuntimeError(f"import errors: {errors}")
            dags = api.get("/dags", params={"dag_id_pattern": DAG_ID}).json()["dags"]
            if dags:
                return dags[0]
        time.sleep(1)
    raise RuntimeError(f"{DAG_ID} not listed after {within:.0f} s")


def run_scheduled(api: httpx.Client, within: float = 600) -> tuple[str, float]:
    """Switch the DAG on and wait for the one run its schedule allows (start = end date); its state and seconds."""
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    started = time.monotonic()
    while time.monotonic() - started < within:
        with contextlib.suppress(httpx.HTTPError):  # a busy API server may answer late: ask again
            runs = api.get(f"/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
            if runs and runs[0]["state"] in ("success", "failed"):
                return runs[0]["state"], time.monotonic() - started
        time.sleep(2)
    raise RuntimeError(f"the scheduled run did not finish within {within:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve() -> int:
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the whole standalone too
    home, port = ROOT / "data" / "airflow", int(os.environ.get("AIRFLOW_PORT", "8080"))
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with standalone(project_env(home, port, home), quiet=False) as proc:
        try:
            seconds = wait_healthy(url, proc)
            user, password = login(home)
            print(f"\n  cryptopulse on Airflow: {url}  login {user} / {password}  (up in {seconds:.0f} s; Ctrl-C stops)\n", flush=True)
            return proc.wait()
        except KeyboardInterrupt:
            return 0


def check(run: dt.date | None) -> int:
    with tempfile.TemporaryDirectory(prefix="cryptopulse-airflow-") as tmp:
        home, port = Path(tmp), free_port()
        overrides = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                     "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}
        if run is not None:  # exactly one scheduled run, over `run`, on a small reference dataset (2024-05-11 … 05-31)
            overrides.update(CRYPTOPULSE_OFFLINE="1", CRYPTOPULSE_REFERENCE_SCALE="0.01", CRYPTOPULSE_AIRFLOW_CATCHUP="true",
                             CRYPTOPULSE_AIRFLOW_START_DATE=str(run), CRYPTOPULSE_AIRFLOW_END_DATE=str(run))
        url = f"http://127.0.0.1:{port}"
        with standalone(project_env(home, port, home, overrides), quiet=True) as proc:
            seconds = wait_healthy(url, proc)
            with api_client(url, home) as api:
                dag = wait_for_dag(api)
                print(f"healthy after {seconds:.0f} s; {dag['dag_id']} listed ({dag['timetable_summary']}), no import errors", flush=True)
                if run is not None:
                    state, took = run_scheduled(api)
                    print(f"scheduled run over {run}: {state} in {took:.0f} s", flush=True)
                    return 0 if state == "success" else 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("serve", "check"))
    parser.add_argument("--run-day", type=dt.date.fromisoformat, help="check: also let the scheduler run this day, offline")
    args = parser.parse_args()
    try:
        return serve() if args.mode == "serve" else check(args.run_day)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
