"""Shared fixtures: a tiny literal lake, a small synthetic lake, settings pointing at temp folders."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cryptopulse.config import Settings, load_settings
from cryptopulse.lake import Lake
from cryptopulse.models import load_models
from offline import install as forbid_outside_hosts
from rawfiles import write_tiny_lake

forbid_outside_hosts()  # no test may reach a host outside 127.0.0.1 (checked for every socket)
# session-wide PostgreSQL, S3 and Spark (tests/services.py) and Airflow home (tests/dagrun.py), started on first use
pytest_plugins = ("services", "dagrun")

SMALL_SCALE = 0.01
# Fixtures costly to start in a process, costliest first. Modules using one of them are queued before the others
# (pyproject.toml: `-n 2 --dist loadfile`), so the long modules start first and the two workers finish together.
HEAVY_FIXTURES = ("spark", "airflow_home", "postgres_server", "s3_server")
# Tables a rerun must reproduce exactly (logs such as pipeline_runs and quality_results grow by design).
DATA_TABLES = (*(m.name for m in load_models()), "quarantine", "staging_stats")


def settings_for(tmp: Path) -> Settings:
    return load_settings(lake=str(tmp / "lake"), warehouse=str(tmp / "warehouse.duckdb"))


@pytest.fixture
def tiny(tmp_path: Path) -> Settings:
    """Settings whose lake holds the literal rows of `rawfiles.write_tiny_lake`."""
    settings = settings_for(tmp_path)
    write_tiny_lake(Lake(settings.lake))
    return settings


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder `build` fills once per test run, shared by the xdist workers: the first worker to ask builds it under a
    file lock, the others wait for it and reuse it. Callers copy it before writing."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder, above each worker's
    folder, done = shared / f"built-{name}", shared / f"built-{name}.done"
    with open(shared / f"built-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            done.touch()
    return folder


def copy_built(built: Settings, root: Path) -> Settings:
    """A private copy of a built lake and warehouse under `root` (DuckDB locks a file a process writes)."""
    settings = settings_for(root)
    shutil.copytree(built.lake, settings.lake)
    shutil.copy(built.warehouse, settings.warehouse)
    return settings


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A raw zone generated once per test run at scale 0.01; tests copy it before writing."""
    from cryptopulse.sources.synthetic import generate

    return built_once(tmp_path_factory, "small-raw", lambda root: generate(Lake(str(root / "lake")), scale=SMALL_SCALE, seed=7)) / "lake"


@pytest.fixture
def small(tmp_path: Path, small_raw: Path) -> Settings:
    """Settings over a private copy of the small synthetic raw zone."""
    shutil.copytree(small_raw, tmp_path / "lake")
    return settings_for(tmp_path)


@pytest.fixture(scope="session")
def small_built(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The small raw zone run once per test run (DuckDB), shared: only for tests that read and never write it."""
    from cryptopulse.pipeline import run

    def build(root: Path) -> None:
        settings = settings_for(root)
        shutil.copytree(small_raw, settings.lake)
        run(settings)

    return copy_built(settings_for(built_once(tmp_path_factory, "small-built", build)), tmp_path_factory.mktemp("small-built"))


@pytest.fixture
def small_built_copy(small_built: Settings, tmp_path: Path) -> Settings:
    """A private copy of `small_built` (its lake and warehouse): the small raw zone run whole, for a test to change."""
    return copy_built(small_built, tmp_path)


@pytest.fixture(scope="session")
def small_enriched(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The small raw zone run, then scored and flagged (`enrich`, unpublished), once per test run; shared, read only."""
    from cryptopulse.analysis.enrich import enrich
    from cryptopulse.pipeline import run

    def build(root: Path) -> None:
        settings = settings_for(root)
        shutil.copytree(small_raw, settings.lake)
        run(settings)
        enrich(settings, workers=1, publish=False)

    return copy_built(settings_for(built_once(tmp_path_factory, "small-enriched", build)), tmp_path_factory.mktemp("small-enriched"))


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def table_hashes(warehouse: str, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash per table."""
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return {t: _hash(con, t) for t in tables}
    finally:
        con.close()


def _hash(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    rows = con.execute(f"SELECT CAST(t AS VARCHAR) AS r FROM {table} AS t ORDER BY r").fetchall()
    digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
    return len(rows), digest


def published_hashes(lake_root: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash of every table in the published version (read as readers do)."""
    from cryptopulse.read import open_snapshot

    with open_snapshot(Lake(lake_root)) as snapshot:
        cur = snapshot.cursor()
        return {t: _hash(cur, t) for t in sorted(snapshot.tables) if t not in ("quality_results", "pipeline_runs")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Queue the tests that start a costly fixture first (`--dist loadfile` hands out whole modules in this order)."""
    items.sort(key=_heaviness)


def _heaviness(item: pytest.Item) -> int:
    used = set(getattr(item, "fixturenames", ()))
    return next((i for i, name in enumerate(HEAVY_FIXTURES) if name in used), len(HEAVY_FIXTURES))
