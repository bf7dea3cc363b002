"""Orchestration: what the Airflow DAG (`dags/cryptopulse_daily.py`) runs, as library functions of the run's data interval.

`options` reads the run's options, `credentials` the API keys, `ingest` and `reference` fetch per source,
`warehouse` builds one layer per task, and `tasks` adapts all of them to Airflow (context, skips, assets).
"""
