"""Errors a user can cause end in one line on stderr naming the field or file, exit code 2, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import settings_for
from cryptopulse.analysis.enrich import enrich
from cryptopulse.analysis.leadlag import granger, hours_needed, largest_lag
from cryptopulse.cli import app
from cryptopulse.lake import Lake
from cryptopulse.lake.lock import run_lock
from cryptopulse.pipeline import run


def assert_one_line_error(result, *names: str) -> str:
    """Exit 2, exactly one line on stderr that names each of `names`, and no exception escaped the command."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception  # a traceback would leave the real exception here
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture
def clean_env(monkeypatch):
    """No CRYPTOPULSE_* variable from the caller's environment (the tests set their own)."""
    for name in [k for k in os.environ if k.startswith("CRYPTOPULSE_")]:
        monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value", "names"),
    [
        ("CRYPTOPULSE_MEMORY_LIMIT", "lots", ["memory_limit", "'lots'", "$CRYPTOPULSE_MEMORY_LIMIT"]),
        ("CRYPTOPULSE_FRESHNESS_HOURS", "-5", ["freshness_hours", "greater than 0", "$CRYPTOPULSE_FRESHNESS_HOURS"]),
        ("CRYPTOPULSE_FRESHNESS_HOURS", "0", ["freshness_hours", "$CRYPTOPULSE_FRESHNESS_HOURS"]),
        ("CRYPTOPULSE_THREADS", "many", ["threads", "$CRYPTOPULSE_THREADS"]),
        ("CRYPTOPULSE_THREADS", "-1", ["threads", "$CRYPTOPULSE_THREADS"]),
        ("CRYPTOPULSE_ENGINE", "oracle", ["engine", "'oracle'", "duckdb, postgres, spark"]),
    ],
)
def test_a_bad_setting_in_the_environment_is_refused_when_read(tiny, cli, clean_env, variable, value, names):
    clean_env.setenv(variable, value)
    assert_one_line_error(cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse]), *names)
    assert not (Path(tiny.lake) / "staged").exists()  # refused before any work


@pytest.mark.parametrize("size", ["8GB", "1024 MiB", "2g", "900mb"])
def test_memory_sizes_every_engine_understands_are_accepted(tiny, cli, clean_env, size):
    clean_env.setenv("CRYPTOPULSE_MEMORY_LIMIT", size)
    result = cli.invoke(app, ["stage", "--lake", tiny.lake])
    assert result.exit_code == 0, result.stderr


def test_a_bad_setting_in_the_config_file_names_the_file(tiny, cli, clean_env, tmp_path):
    config = tmp_path / "cryptopulse.toml"
    config.write_text("[cryptopulse]\nfreshness_hours = -3\n")
    assert_one_line_error(cli.invoke(app, ["run", "--config", str(config), "--lake", tiny.lake]), "freshness_hours", str(config))


def test_an_unknown_setting_in_the_config_file_is_named(cli, clean_env, tmp_path):
    config = tmp_path / "cryptopulse.toml"
    config.write_text("[cryptopulse]\nlakes = './data/lake'\n")
    assert_one_line_error(cli.invoke(app, ["status", "--config", str(config)]), "'lakes'", "unknown setting", str(config))


def test_a_config_section_that_is_not_a_table_is_named(cli, clean_env, tmp_path):
    config = tmp_path / "cryptopulse.toml"
    config.write_text("cryptopulse = 3\n")
    assert_one_line_error(cli.invoke(app, ["status", "--config", str(config)]), str(config), "[cryptopulse] must be a table")


def test_config_variable_naming_a_missing_file_is_an_error(cli, clean_env, tmp_path):
    missing = tmp_path / "nowhere.toml"
    clean_env.setenv("CRYPTOPULSE_CONFIG", str(missing))
    assert_one_line_error(cli.invoke(app, ["status"]), str(missing), "not found", "$CRYPTOPULSE_CONFIG")


def test_config_variable_naming_a_folder_is_an_error(cli, clean_env, tmp_path):
    clean_env.setenv("CRYPTOPULSE_CONFIG", str(tmp_path))
    assert_one_line_error(cli.invoke(app, ["status"]), str(tmp_path), "is a folder")


@pytest.mark.parametrize("command", [["generate", "--scale", "0.001"], ["run"], ["status"], ["sql", "SELECT 1"]])
def test_a_lake_under_a_regular_file_is_named(cli, clean_env, tmp_path, command):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    assert_one_line_error(cli.invoke(app, [*command, "--lake", str(blocker / "lake")]), "lake", str(blocker), "is a file", "--lake")


@pytest.mark.parametrize(("lake", "said"), [("{file}", "is a file, not a folder"), ("", "must not be empty")])
def test_a_lake_that_is_a_file_or_empty_is_refused(cli, clean_env, tmp_path, lake, said):
    (tmp_path / "afile").write_text("not a folder")
    for command in (["run"], ["status"]):
        assert_one_line_error(cli.invoke(app, [*command, "--lake", lake.format(file=tmp_path / "afile")]), "lake", said, "--lake")


def test_a_published_file_gone_missing_is_one_line(tiny, cli, clean_env):
    assert cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse]).exit_code == 0
    victim = next((Path(tiny.lake) / "published" / "dim_coin").rglob("*.parquet"))
    victim.unlink()
    for command in (["status"], ["sql", "SELECT count(*) FROM fct_post"]):
        assert_one_line_error(cli.invoke(app, [*command, "--lake", tiny.lake]), "cannot read the published version", victim.name)


def test_a_warehouse_under_a_regular_file_is_named(tiny, cli, clean_env, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", str(blocker / "w.duckdb")])
    assert_one_line_error(result, "warehouse", str(blocker), "--warehouse")


def test_a_lake_path_with_a_single_quote_is_refused(tiny, cli, clean_env, tmp_path):
    quoted = tmp_path / "it's"
    shutil.copytree(tiny.lake, quoted / "lake")
    result = cli.invoke(app, ["run", "--lake", str(quoted / "lake"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert_one_line_error(result, "lake", "single quote")


@pytest.mark.parametrize(("start", "end", "named"), [("2024-01-01", "9999-12-31", "--end 9999-12-31"),
                                                     ("0001-01-01", "2024-01-02", "--start 0001-01-01")])
def test_days_outside_the_supported_range_are_refused(tiny, cli, clean_env, start, end, named):
    result = cli.invoke(app, ["run", "--start", start, "--end", end, "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert_one_line_error(result, named, "out of range")


CRYPTOPULSE = str(Path(sys.executable).with_name("cryptopulse"))


def test_a_run_is_refused_while_another_holds_the_lake_and_queues_with_wait(tiny):
    """The lock is per process: the competing runs are real processes, the holder is this one."""
    args = [CRYPTOPULSE, "run", "--lake", tiny.lake, "--warehouse", tiny.warehouse]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    with run_lock(Lake(tiny.lake), "holder-run"):
        refused = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        waiting = subprocess.Popen([*args, "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock …
        assert not (Path(tiny.lake) / "staged").exists()  # … having done no work, like the refused run
    out, errors = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, errors
    assert "quality checks passed" in out and (Path(tiny.lake) / "staged").is_dir()
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "another run holds the lake" in line and "holder-run" in line and "--wait" in line


def test_status_of_a_lake_with_nothing_published_says_so(tiny, cli, clean_env):
    result = cli.invoke(app, ["status", "--lake", tiny.lake])
    assert result.exit_code == 0, result.stderr
    assert "nothing published yet" in result.stdout and "cryptopulse run" in result.stdout


def test_status_of_a_missing_lake_is_one_line(cli, clean_env, tmp_path):
    assert_one_line_error(cli.invoke(app, ["status", "--lake", str(tmp_path / "none")]), "lake not found", str(tmp_path / "none"))


@pytest.fixture(scope="module")
def enriched(tmp_path_factory, small_raw):
    """The small synthetic lake (5 coins × 504 hours), run and enriched."""
    root = tmp_path_factory.mktemp("enriched")
    shutil.copytree(small_raw, root / "lake")
    settings = settings_for(root)
    run(settings)
    enrich(settings, workers=1)
    return settings


def test_analyze_with_a_max_lag_too_long_for_the_hours_says_how_many_are_needed(enriched, cli, clean_env):
    args = ["analyze", "--coin", "bitcoin", "--no-charts", "--lake", enriched.lake, "--warehouse", enriched.warehouse]
    line = assert_one_line_error(cli.invoke(app, [*args, "--max-lag", "168"]), "--max-lag 168", str(hours_needed(168)), "bitcoin")
    hours = int(line.split("bitcoin has ")[1].split()[0])
    assert hours < hours_needed(168)
    assert f"--max-lag {largest_lag(hours)} or less" in line  # the advice is right: see the next test


@pytest.mark.parametrize("max_lag", [1, 3, 10])  # the relation is linear in max_lag; large orders only take longer to fit
def test_hours_needed_is_exactly_what_the_var_fit_needs(max_lag):
    rng = np.random.default_rng(max_lag)
    frame = pd.DataFrame(rng.normal(size=(hours_needed(max_lag), 3)), columns=["returns", "sentiment", "volume"])
    assert granger(frame, max_lag)  # fits with hours_needed rows
    assert largest_lag(len(frame)) == max_lag
    with pytest.raises(ValueError, match="maxlags is too large"):
        granger(frame.iloc[1:], max_lag)  # one hour fewer cannot


# A missing optional extra, simulated in a fresh process: importing the module fails as if it were not installed.
BLOCK = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {module!r} or name.startswith({module!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Missing())
from cryptopulse.cli import main
sys.argv = ["cryptopulse", *sys.argv[1:]]
main()
"""


def run_without(module: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    return subprocess.run([sys.executable, "-c", BLOCK.format(module=module), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    ("module", "extra", "args"),
    [
        ("pandas", "analysis", ["analyze"]),
        ("psycopg", "postgres", ["grant-reader", "analyst", "--warehouse", "postgresql://nobody@127.0.0.1:1/none"]),
        ("s3fs", "s3", ["status", "--lake", "s3://bucket/lake"]),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(tmp_path, module, extra, args):
    lake_args = [] if "--lake" in args or "--warehouse" in args else ["--lake", str(tmp_path / "lake")]
    result = run_without(module, *args, *lake_args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: this command needs {module}, which is not installed: pip install 'cryptopulse[{extra}]'"


def test_the_demo_stops_on_a_missing_extra_before_any_work(tmp_path):  # enrich's own import: vaderSentiment
    result = run_without("vaderSentiment", "demo", "--scale", "0.001", "--lake", str(tmp_path / "lake"))
    assert result.returncode == 2, result.stderr
    assert "pip install 'cryptopulse[analysis]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "lake").exists()


def test_an_import_error_that_is_no_extra_stays_a_traceback(tmp_path):
    """A bug (a module of ours missing) must not be disguised as a missing extra."""
    result = run_without("cryptopulse.analysis", "analyze", "--lake", str(tmp_path / "lake"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "pip install" not in result.stderr


def test_publish_before_build_is_one_line_and_creates_no_warehouse(tiny, cli, clean_env):
    args = ["--lake", tiny.lake, "--warehouse", tiny.warehouse]
    assert cli.invoke(app, ["stage", "--lake", tiny.lake]).exit_code == 0
    assert_one_line_error(cli.invoke(app, ["publish", *args]), "run `cryptopulse build` first")
    assert not (Path(tiny.lake) / "published" / "_manifest.json").exists()


def test_a_manifest_that_lists_files_outside_its_table_is_refused(tiny, cli, clean_env):
    run(tiny)
    manifest = Path(tiny.lake) / "published" / "_manifest.json"
    manifest.write_text(manifest.read_text().replace('"published/dim_coin/', '"published/fct_post/'))
    assert_one_line_error(cli.invoke(app, ["status", "--lake", tiny.lake]), "_manifest.json", "outside published/dim_coin/")


def test_a_failing_engine_query_is_a_one_line_engine_error(tmp_path):
    from cryptopulse.engines import EngineError
    from cryptopulse.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine(settings_for(tmp_path))
    with pytest.raises(EngineError, match=r"^query failed: .*nope") as raised:
        engine.query("SELECT nope")
    assert "\n" not in str(raised.value)
    engine.close()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["serve", "--port", "0"], "--port must be between 1 and 65535, got 0"),
        (["serve", "--workers", "0"], "--workers must be at least 1, got 0"),
        (["dashboard", "--port", "70000"], "--port must be between 1 and 65535, got 70000"),
        (["enrich", "--workers", "0"], "--workers must be at least 1, got 0"),
        (["ingest", "x", "--query", "btc=$BTC", "--calls-per-minute", "-1"], "--calls-per-minute must be positive, got -1"),
    ],
    ids=["serve-port", "serve-workers", "dashboard-port", "enrich-workers", "ingest-rate"],
)
def test_an_option_out_of_range_is_a_usage_error_before_any_work(cli, clean_env, tmp_path, args, said):
    assert_one_line_error(cli.invoke(app, [*args, "--lake", str(tmp_path)]), said)
