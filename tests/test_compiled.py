"""The disk cache of rendered model SQL gives exactly what sqlglot renders, survives a bad file, and spares a run
with a warm cache from importing sqlglot at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cryptopulse.interval import Interval
from cryptopulse.models import compiled, registry

DIALECTS = ("duckdb", "postgres", "spark", "redshift")
INTERVAL = Interval.parse("2024-02-28", "2024-03-02")


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compiled.clear_memory()
    yield tmp_path
    compiled.clear_memory()


def uncached(sql: str, dialect: str, interval: Interval) -> str:
    """What sqlglot renders with the interval's bounds bound in the tree (no cache, no sentinel)."""
    values = {"interval_start": f"{interval.start_ts:%Y-%m-%d %H:%M:%S}", "interval_end": f"{interval.end_ts:%Y-%m-%d %H:%M:%S}"}
    return registry._render(sql, dialect, values)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cold_and_warm_cache_render_exactly_what_sqlglot_renders(cache_home, dialect):
    models = registry.load_models()
    expected = [uncached(m.sql, dialect, INTERVAL) for m in models]
    assert any("2024-02-28 00:00:00" in text for text in expected)  # some model is bound to the interval
    cold = [registry.render(m.sql, dialect, INTERVAL) for m in models]
    compiled.clear_memory()  # a new process: everything comes from the file
    warm = [registry.render(m.sql, dialect, INTERVAL) for m in models]
    assert cold == expected and warm == expected
    assert compiled.cache_file().is_relative_to(cache_home)


def test_a_corrupt_cache_file_is_ignored_and_rewritten(cache_home):
    path = compiled.cache_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    model = registry.load_models()[0]
    assert registry.render(model.sql, "postgres", INTERVAL) == uncached(model.sql, "postgres", INTERVAL)
    assert path.read_text().startswith("{\"")


def test_a_run_with_a_warm_cache_does_not_import_sqlglot(cache_home):
    code = (
        "import sys\n"
        "from cryptopulse.interval import Interval\n"
        "from cryptopulse.models.build import model_replacement\n"
        "from cryptopulse.models.registry import load_models\n"
        "[model_replacement(m, Interval.parse('2024-02-28', '2024-03-02'), 'duckdb') for m in load_models()]\n"
        "print('sqlglot' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True) for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]  # the first fills the cache, the second reads it


def test_a_daily_run_with_a_warm_cache_imports_neither_sqlglot_nor_pandas(cache_home, tiny):
    """The daily increment is a process: libraries it does not need are start-up time (issue 17, goal 2)."""
    code = (
        "import sys\n"
        "from cryptopulse.cli import main\n"
        "sys.argv = ['cryptopulse', 'run', '--start', '2024-01-01', '--end', '2024-01-02', '--json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(sorted(m for m in ('sqlglot', 'pandas') if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "CRYPTOPULSE_LAKE": tiny.lake, "CRYPTOPULSE_WAREHOUSE": tiny.warehouse}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr[-2000:]
    assert '"status": "ok"' in runs[1].stdout
    assert runs[1].stderr.strip().splitlines()[-1] == "[]"
