"""Publishing is atomic as a set, readers never block the writer, one writer at a time, and a killed run is rerun
safely — at any instant (kill -9 of a real process) and at each named step (a crash injected there)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import published_hashes, table_hashes
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.lock import RunLocked
from cryptopulse.lake.publish import published_tables
from cryptopulse.lake.runlog import recent_runs
from cryptopulse.pipeline import publish_step, run
from cryptopulse.read import open_snapshot

CLI = [sys.executable, "-m", "cryptopulse.cli"]
FIRST_WEEK = Interval.parse("2024-05-11", "2024-05-18")


@pytest.fixture(scope="module")
def clean(small_built):
    """A whole run over the small raw zone, untouched by faults (the session's): what every recovered lake must equal."""
    return table_hashes(small_built.warehouse), published_hashes(small_built.lake)


def count(lake_root: str, table: str) -> int:
    with open_snapshot(Lake(lake_root)) as snapshot:
        return snapshot.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def assert_equals_clean(settings, clean) -> None:
    tables, published = clean
    assert table_hashes(settings.warehouse) == tables
    assert published_hashes(settings.lake) == published


def test_a_reader_keeps_its_version_while_a_publish_lands_and_sees_the_new_one_next(small):
    run(small, FIRST_WEEK)
    with open_snapshot(Lake(small.lake)) as old:
        before = old.cursor().execute("SELECT count(*), max(date) FROM fct_post").fetchone()
        run(small)  # the whole range: a new version while the old snapshot is open
        assert old.cursor().execute("SELECT count(*), max(date) FROM fct_post").fetchone() == before
    with open_snapshot(Lake(small.lake)) as new:
        assert new.version != old.version
        rows, last_day = new.cursor().execute("SELECT count(*), max(date) FROM fct_post").fetchone()
    assert rows > before[0] and last_day > before[1]


@pytest.mark.parametrize("crash_at", ["staging write", "gates", "third table export", "before the switch"])
def test_a_crash_at_each_step_leaves_the_previous_version_and_a_rerun_equals_a_clean_run(small, clean, monkeypatch, crash_at):
    run(small, FIRST_WEEK)
    before = published_hashes(small.lake)
    target = {
        "staging write": ("cryptopulse.lake.store.Lake.write_bytes", 3),
        "gates": ("cryptopulse.pipeline.run_checks", 1),
        "third table export": ("cryptopulse.lake.publish._publish_table", 3),
        "before the switch": ("cryptopulse.lake.publish.write_manifest", 1),
    }[crash_at]
    restore = inject_crash(monkeypatch, *target)
    with pytest.raises(KeyboardInterrupt):
        run(small)
    restore()
    assert published_hashes(small.lake) == before  # readers still see the previous version, whole
    assert recent_runs(Lake(small.lake))[0]["status"] == "failed"
    run(small)
    assert_equals_clean(small, clean)


def inject_crash(monkeypatch, dotted: str, nth: int):
    """Make the `nth` call of `dotted` raise KeyboardInterrupt (a kill at that point); returns the undo."""
    module_name, _, attr = dotted.rpartition(".")
    owner = _resolve(module_name)
    real = getattr(owner, attr)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth:
            raise KeyboardInterrupt(f"simulated crash at call {nth} of {attr}")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, attr, crashing)
    return lambda: monkeypatch.setattr(owner, attr, real)


def _resolve(name: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        module, _, cls = name.rpartition(".")
        return getattr(importlib.import_module(module), cls)


def test_kill_9_at_any_instant_never_shows_a_mixed_version_and_a_rerun_equals_a_clean_run(small, clean):
    """A real `cryptopulse run` process killed at spread-out instants (staging, build, export, switch)."""
    run(small, FIRST_WEEK)
    first = published_hashes(small.lake)
    env = {**os.environ, "CRYPTOPULSE_LAKE": small.lake, "CRYPTOPULSE_WAREHOUSE": small.warehouse}
    for delay in (0.6, 1.2, 1.8, 2.4, 3.0):
        proc = subprocess.Popen([*CLI, "run", "--json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen = published_hashes(small.lake)
        assert seen in (first, clean[1]), f"killed after {delay} s: the published version is neither the old nor the new one"
    run(small)
    assert_equals_clean(small, clean)
    assert not list(Path(small.lake, "published", "_scratch").glob("*"))  # the rerun removed what the kills left


def test_a_second_run_is_refused_before_any_work_naming_the_holder_and_recorded(small, tmp_path):
    holder = hold_lock(small.lake, tmp_path)
    try:
        started = time.perf_counter()
        with pytest.raises(RunLocked, match=r"another run holds the lake \(run holder-run, pid \d+"):
            run(small)
        assert time.perf_counter() - started < 2
        assert not Path(small.lake, "staged").exists()  # refused before staging anything
        refused = recent_runs(Lake(small.lake))[0]
        assert refused["status"] == "refused" and "holder-run" in refused["error"]
    finally:
        holder.terminate()
        holder.wait()
    report = run(small, FIRST_WEEK)  # the lock died with its holder; the refused run reaches pipeline_runs
    import duckdb

    con = duckdb.connect(small.warehouse, read_only=True)
    statuses = dict(con.execute("SELECT run_id, status FROM pipeline_runs").fetchall())
    con.close()
    assert statuses[refused["run_id"]] == "refused" and statuses[report.run_id] == "ok"


def test_wait_queues_behind_the_holder(small, tmp_path):
    holder = hold_lock(small.lake, tmp_path, seconds=2)
    started = time.perf_counter()
    report = run(small, FIRST_WEEK, wait=True)
    waited = time.perf_counter() - started
    holder.wait()
    assert report.status == "ok" and waited >= 1.0


def test_readers_never_block_the_writer(small):
    run(small, FIRST_WEEK)
    stop = threading.Event()
    reads = {"n": 0}

    def read_forever():
        with open_snapshot(Lake(small.lake)) as snapshot:
            cur = snapshot.cursor()
            while not stop.is_set():
                cur.execute("SELECT count(*) FROM fct_post JOIN bridge_post_coin USING (post_id)").fetchone()
                reads["n"] += 1

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        report = run(small)
    finally:
        stop.set()
        reader.join()
    assert report.status == "ok" and reads["n"] > 0
    assert count(small.lake, "fct_post") == next(t.rows for t in report.published if t.name == "fct_post")


def test_only_the_previous_version_is_kept(small):
    run(small, FIRST_WEEK)
    files_of = []
    for _ in range(3):
        publish_step(small, FIRST_WEEK)
        manifest = json.loads(Path(small.lake, "published", "_manifest.json").read_text())
        files_of.append(set(manifest["tables"]["fct_post"]["file_list"]))
    on_disk = {str(p.relative_to(small.lake)) for p in Path(small.lake, "published", "fct_post").rglob("*.parquet")}
    assert on_disk == files_of[-1] | files_of[-2]
    assert not files_of[-3] & on_disk


def test_files_a_killed_publish_moved_into_the_tables_are_removed_by_the_next_publish(small, monkeypatch):
    run(small, FIRST_WEEK)
    pinned = published_files(small.lake)
    restore = inject_crash(monkeypatch, "cryptopulse.lake.publish.DeltaTable.create_write_transaction", 3)
    with pytest.raises(KeyboardInterrupt):
        publish_step(small, FIRST_WEEK)
    restore()
    assert files_on_disk(small.lake) - set().union(*pinned.values())  # the killed publish left files in the tables
    publish_step(small, FIRST_WEEK)
    current = published_files(small.lake)
    assert files_on_disk(small.lake) == set().union(*pinned.values(), *current.values())


def published_files(lake: str) -> dict[str, set[str]]:
    """The data files of each table of the published version, as the manifest lists them."""
    manifest = json.loads(Path(lake, "published", "_manifest.json").read_text())
    return {name: set(table["file_list"]) for name, table in manifest["tables"].items()}


def files_on_disk(lake: str) -> set[str]:
    return {str(p.relative_to(lake)) for p in Path(lake, "published").rglob("*.parquet") if "_scratch" not in p.parts}


def test_publishing_a_few_tables_keeps_the_others_as_they_were(small):
    run(small)
    before = json.loads(Path(small.lake, "published", "_manifest.json").read_text())
    publish_step(small, None, only=["dim_coin"])
    after = json.loads(Path(small.lake, "published", "_manifest.json").read_text())
    assert after["version"] == before["version"] + 1
    assert after["tables"]["fct_post"] == before["tables"]["fct_post"]
    assert after["tables"]["dim_coin"]["delta_version"] == before["tables"]["dim_coin"]["delta_version"] + 1
    assert set(after["tables"]) == set(before["tables"])
    assert {name for name, _, _ in published_tables()} <= set(after["tables"])


def hold_lock(lake: str, tmp_path: Path, seconds: float = 60) -> subprocess.Popen:
    """Another process holding the lake's run lock (as run `holder-run`) for `seconds`; returns once it holds it."""
    ready = tmp_path / "holding"
    code = textwrap.dedent(f"""
        import pathlib, time
        from cryptopulse.lake import Lake
        from cryptopulse.lake.lock import run_lock
        with run_lock(Lake({lake!r}), "holder-run"):
            pathlib.Path({str(ready)!r}).touch()
            time.sleep({seconds})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the lock holder did not start"
        time.sleep(0.05)
    return proc
