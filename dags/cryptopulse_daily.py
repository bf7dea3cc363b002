"""
# cryptopulse daily

Every day at **07:00 UTC** this DAG processes the **previous UTC day**: it lands CoinGecko prices (one task per
coin), X and Reddit posts in the lake's raw zone, stages them (parse, type, deduplicate, quarantine), scores the
day's staged posts' sentiment and flags bots/spam (`score_posts`), then writes the day into the warehouse — every
model once, the sentiment marts included — and audits it with the quality gates in one transaction
(`build_and_audit`, the same write–audit–publish as `cryptopulse run`), and publishes the day as Parquet. The
published tables are Airflow assets (`cryptopulse://published/<table>`) that downstream DAGs can be scheduled on.

- **Schedule**: `CronDataIntervalTimetable("0 7 * * *", UTC)`. The run that starts at D+1 07:00 has the data
  interval [D 07:00, D+1 07:00) and works on the calendar day D, so the day's late data has seven hours to arrive.
  Rerunning (clearing) a day or backfilling a range replaces exactly those days: results are identical.
- **Sources**: a source without credentials is skipped; a failing source does not stop the others' data from
  being staged, gated and published, but `sources_failed` then marks the run failed.
- **Gates**: when a check fails, the build is rolled back and nothing is published: the warehouse and the
  published version stay exactly as they were, and `quality_results` records the failure with an example row.
  Fix, then clear the day.
- **Offline** (`CRYPTOPULSE_OFFLINE=1` or Variable `cryptopulse_offline`): the ingest tasks land the synthetic
  reference dataset's files for the day instead of calling the APIs.

Everything a task does is a function in `cryptopulse.orchestration.tasks`; options and credentials are described
in `docs/AIRFLOW.md`. The DAG exists unless `CRYPTOPULSE_ENGINE=spark`, which selects `cryptopulse_daily_spark`.
"""

from __future__ import annotations

from airflow.sdk import DAG, chain, task

from cryptopulse.config import load_settings
from cryptopulse.orchestration import tasks
from cryptopulse.orchestration.dag_parts import ingest_sources, staging_after
from cryptopulse.orchestration.options import daily_dag_arguments, read_schedule_options

schedule = read_schedule_options()

if load_settings().engine != "spark":  # with CRYPTOPULSE_ENGINE=spark, cryptopulse_daily_spark runs the day instead
    with DAG(
        dag_id="cryptopulse_daily",
        **daily_dag_arguments(schedule, tags=["cryptopulse", "crypto", "daily"]),
        doc_md=__doc__,
    ) as dag:
        stage = staging_after(ingest_sources())
        scored = task(task_id="score_posts")(tasks.score_posts)()
        built = task(task_id="build_and_audit")(tasks.build_and_audit)()
        publish = task(task_id="publish", outlets=list(tasks.published_assets().values()))(tasks.publish)(built=built)
        chain(stage, scored, built, publish)
