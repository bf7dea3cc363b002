"""
# cryptopulse daily, models on Spark

The Spark variant of `cryptopulse_daily`'s warehouse half. Every day at **07:00 UTC** it stages the **previous
UTC day** from the lake's raw zone (in the Airflow worker, DuckDB) and submits `cryptopulse.spark.job` with the
Spark provider's `SparkSubmitOperator`: the day's models, gates and publish run as one Spark application.

- **Cluster**: the Airflow connection `spark_default` (or `CRYPTOPULSE_SPARK_CONN_ID`) names the master:
  `local[2]`, `yarn`, `spark://host:7077`, `k8s://…`; see `docs/SPARK.md`.
- **Lake and warehouse**: `CRYPTOPULSE_LAKE` and `CRYPTOPULSE_WAREHOUSE` as the workers see them, passed to the
  job (use URLs both sides can reach, e.g. `s3a://bucket/lake`).
- **Gates**: a failed check makes the job exit 1, which fails the task; nothing is published.
- Raw data comes from `cryptopulse_daily`'s ingest tasks or any other lander; unpause one of the two DAGs.
"""

from __future__ import annotations

import os

from airflow.sdk import DAG, task

from cryptopulse.config import load_settings
from cryptopulse.orchestration import tasks
from cryptopulse.orchestration.options import daily_dag_arguments, read_schedule_options
from cryptopulse.spark.airflow import spark_submit_task

schedule = read_schedule_options()
settings = load_settings()

with DAG(
    dag_id="cryptopulse_daily_spark",
    **daily_dag_arguments(schedule, tags=["cryptopulse", "crypto", "daily", "spark"]),
    doc_md=__doc__,
) as dag:
    stage = task(task_id="stage")(tasks.stage)()
    spark = spark_submit_task(
        lake=settings.lake,
        warehouse=settings.warehouse,
        conn_id=os.environ.get("CRYPTOPULSE_SPARK_CONN_ID", "spark_default"),
        outlets=list(tasks.published_assets().values()),
        retries=0,  # a failed gate would fail the same way again
    )
    stage >> spark
