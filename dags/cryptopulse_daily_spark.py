"""
# cryptopulse daily, models on Spark

The Spark variant of `cryptopulse_daily`, selected by configuration: it exists when `CRYPTOPULSE_ENGINE=spark`
(and `cryptopulse_daily` then does not). Every day at **07:00 UTC** it lands the **previous UTC day** from the
sources and stages it (in the Airflow worker, as `cryptopulse_daily` does), then submits `cryptopulse.spark.job`
with the Spark provider's `SparkSubmitOperator`: the day's models, gates and publish run as one Spark application.

- **Cluster**: the Airflow connection `spark_default` (or `CRYPTOPULSE_SPARK_CONN_ID`) names the master:
  `local[2]`, `yarn`, `spark://host:7077`, `k8s://…`; see `docs/SPARK.md`.
- **Lake and warehouse**: `CRYPTOPULSE_LAKE` and `CRYPTOPULSE_WAREHOUSE` as the workers see them, passed to the
  job (use URLs both sides can reach, e.g. `s3a://bucket/lake`).
- **Gates**: a failed check makes the job exit 1, which fails the task; nothing is published.
- **Sources**, **offline** mode and **options**: as in `cryptopulse_daily` (`docs/AIRFLOW.md`).
- **Sentiment**: `cryptopulse enrich` is not part of this variant; run it (it reads the same warehouse) after the day.
"""

from __future__ import annotations

import os

from airflow.sdk import DAG

from cryptopulse.config import load_settings
from cryptopulse.orchestration import tasks
from cryptopulse.orchestration.dag_parts import ingest_sources, staging_after
from cryptopulse.orchestration.options import daily_dag_arguments, read_schedule_options
from cryptopulse.orchestration.spark_submit import spark_submit_task

schedule = read_schedule_options()
settings = load_settings()

if settings.engine == "spark":
    with DAG(
        dag_id="cryptopulse_daily_spark",
        **daily_dag_arguments(schedule, tags=["cryptopulse", "crypto", "daily", "spark"]),
        doc_md=__doc__,
    ) as dag:
        stage = staging_after(ingest_sources())
        spark = spark_submit_task(
            lake=settings.lake,
            warehouse=settings.warehouse,
            conn_id=os.environ.get("CRYPTOPULSE_SPARK_CONN_ID", "spark_default"),
            outlets=list(tasks.published_assets().values()),
            retries=0,  # a failed gate would fail the same way again
        )
        stage >> spark
