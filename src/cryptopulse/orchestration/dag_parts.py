"""Task wiring both daily DAGs share: the ingest group and the `sources_failed` marker (no logic: see `tasks`)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import TaskGroup, TriggerRule, task

from cryptopulse.orchestration import tasks


def ingest_sources() -> list[Any]:
    """The `ingest` group (CoinGecko catalog → one history task per coin, X, Reddit) and `sources_failed`, which
    runs only when a source failed; returns the source tasks, which staging waits for."""
    with TaskGroup("ingest", tooltip="Land each source's data for the day in the raw zone"):
        catalog = task(task_id="coingecko_catalog")(tasks.coingecko_catalog)()
        # One coin at a time: the provider's rate limit is per key, and the coins share one cursor file.
        history = task(task_id="coingecko_history", max_active_tis_per_dagrun=1)(tasks.coingecko_history).expand(coin_id=catalog)
        x_posts = task(task_id="x_posts", trigger_rule=TriggerRule.ALL_DONE)(tasks.x_posts)()
        reddit_posts = task(task_id="reddit_posts")(tasks.reddit_posts)()
        catalog >> x_posts
    sources = [history, x_posts, reddit_posts]
    sources >> task(task_id="sources_failed", trigger_rule=TriggerRule.ONE_FAILED, retries=0)(tasks.sources_failed)()
    return sources


def staging_after(sources: list[Any]) -> Any:
    """The `stage` task: runs when every source is done, whether it succeeded, failed or was skipped."""
    stage = task(task_id="stage", trigger_rule=TriggerRule.ALL_DONE)(tasks.stage)()
    sources >> stage
    return stage
