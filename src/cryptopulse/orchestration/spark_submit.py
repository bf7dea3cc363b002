"""An Airflow task that submits the Spark job (`cryptopulse.spark.job`) for the run's days with the Spark provider's operator."""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from cryptopulse.spark import job

# The run's whole UTC days: a daily run's data interval [D 07:00, D+1 07:00) is the day D.
DAY_START = "{{ data_interval_start.in_timezone('UTC') | ds }}"
DAY_END = "{{ data_interval_end.in_timezone('UTC') | ds }}"


def spark_submit_task(
    task_id: str = "spark_build_publish",
    *,
    lake: str,
    warehouse: str,
    steps: str = "build,publish",
    conn_id: str = "spark_default",
    conf: dict[str, Any] | None = None,
    **operator_kwargs: Any,
) -> SparkSubmitOperator:
    """A SparkSubmitOperator running `job.py --steps …` on the run's days.

    The master, deploy mode and queue come from the Airflow connection `conn_id` (Spark type; `local[2]`,
    `yarn`, `spark://host:7077`, `k8s://…`); `conf` adds `--conf` pairs (e.g. S3 credentials providers).
    """
    args = ["--lake", lake, "--warehouse", warehouse, "--start", DAY_START, "--end", DAY_END, "--steps", steps]
    return SparkSubmitOperator(
        task_id=task_id,
        application=job.__file__,
        application_args=args,
        conn_id=conn_id,
        conf={"spark.sql.session.timeZone": "UTC", **(conf or {})},
        name=f"cryptopulse-{task_id}",
        **operator_kwargs,
    )
