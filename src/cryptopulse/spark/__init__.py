"""Running cryptopulse on Spark: the session and the spark-submit job (`job.py`); its Airflow task is `orchestration.spark_submit`."""
