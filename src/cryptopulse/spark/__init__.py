"""Running cryptopulse on Spark: the session, the spark-submit job (`job.py`) and its Airflow task."""
