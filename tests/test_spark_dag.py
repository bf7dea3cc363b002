"""The Spark variant of the daily DAG under real Airflow 3: its shape, and one `dag.test()` day through spark-submit (local[2])."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from cryptopulse.config import load_settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run as pipeline_run
from cryptopulse.read import open_snapshot
from dagrun import DAGS, run_day

DAG_ID = "cryptopulse_daily_spark"
DAY = dt.date(2024, 5, 20)  # inside the small synthetic dataset (2024-05-11 … 2024-05-31)


@pytest.fixture(scope="module")
def spark_dag(airflow_home, spark_conf_dir, tmp_path_factory, small_raw):
    """The DAG parsed with CRYPTOPULSE_ENGINE=spark, offline (the ingest tasks land the small raw zone's files of the
    day in an empty lake), and a Spark connection to local[2]."""
    root = tmp_path_factory.mktemp("spark-dag")
    env = {
        "CRYPTOPULSE_ENGINE": "spark",
        "CRYPTOPULSE_REFERENCE": str(small_raw),
        "AIRFLOW_VAR_CRYPTOPULSE_OFFLINE": "true",
        "CRYPTOPULSE_LAKE": str(root / "lake"),
        "CRYPTOPULSE_WAREHOUSE": str(root / "warehouse.spark"),
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[2]"}),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # spark-submit of the venv's pyspark
        "PYSPARK_PYTHON": sys.executable,  # the job's driver runs in this venv, where cryptopulse is installed
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_CONF_DIR": str(spark_conf_dir),  # the tests' Spark settings for spark-submit too
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("CRYPTOPULSE_OFFLINE", raising=False)
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS / f"{DAG_ID}.py"))
        assert not bag.import_errors, bag.import_errors
        yield bag.dags[DAG_ID], root


def test_the_spark_dag_stages_then_submits_the_packaged_job_for_the_day(spark_dag):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from cryptopulse.spark import job

    dag, root = spark_dag
    ingest = {"ingest.coingecko_catalog", "ingest.coingecko_history", "ingest.x_posts", "ingest.reddit_posts"}
    assert set(dag.task_ids) == {*ingest, "sources_failed", "stage", "spark_build_publish"}
    assert dag.get_task("stage").upstream_task_ids == ingest - {"ingest.coingecko_catalog"}
    spark = dag.get_task("spark_build_publish")
    assert isinstance(spark, SparkSubmitOperator)
    assert spark.upstream_task_ids == {"stage"}
    assert spark.application == job.__file__
    args = spark.application_args
    assert args[args.index("--lake") + 1] == str(root / "lake")
    assert args[args.index("--steps") + 1] == "build,publish"
    assert "data_interval_start" in args[args.index("--start") + 1]
    assert {a.uri for a in spark.outlets} >= {"cryptopulse://published/fct_post"}


def test_the_engine_setting_selects_which_daily_dag_exists(spark_dag, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    assert set(DagBag(dag_folder=str(DAGS)).dag_ids) == {DAG_ID}  # CRYPTOPULSE_ENGINE=spark
    monkeypatch.setenv("CRYPTOPULSE_ENGINE", "duckdb")
    assert set(DagBag(dag_folder=str(DAGS)).dag_ids) == {"cryptopulse_daily"}


def test_one_day_runs_on_spark_and_publishes_what_duckdb_publishes(spark_dag, small_raw, tmp_path):
    dag, root = spark_dag
    result = run_day(dag, DAY)
    assert result.state == "success", result.tasks
    assert result.state_of("ingest.reddit_posts") == "skipped" and result.state_of("spark_build_publish") == "success"
    manifest = json.loads((root / "lake" / "published" / "_manifest.json").read_text())
    assert manifest["last_interval"] == [str(DAY), str(DAY + dt.timedelta(days=1))]

    shutil.copytree(small_raw / "raw", tmp_path / "lake" / "raw")
    # engine named: the module's environment says CRYPTOPULSE_ENGINE=spark
    reference = load_settings(lake=str(tmp_path / "lake"), warehouse=str(tmp_path / "warehouse.duckdb"), engine="duckdb")
    pipeline_run(reference, Interval(DAY, DAY + dt.timedelta(days=1)))
    query = f"SELECT * FROM fct_post WHERE date = DATE '{DAY}' ORDER BY source, post_id"
    rows = []
    for lake in (root / "lake", tmp_path / "lake"):
        with open_snapshot(Lake(str(lake))) as snapshot:
            rows.append(snapshot.cursor().execute(query).fetchall())
    assert rows[0] == rows[1] and len(rows[0]) > 100
