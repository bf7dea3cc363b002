"""`cryptopulse enrich`: score unscored posts and flag bots/spam, land both in the staged zone, rebuild the marts.

Scores and flags of a day live in `staged/post_sentiment/date=D/part-0.parquet` (the model
`fct_post_sentiment` reads them), so they survive rebuilds and every engine reads them like any staged
file. Only posts without a score are scored; a day that gains posts has its flags recomputed over
all its posts. Then `fct_post_sentiment` and the marts are rebuilt, under their quality gates, from the
first day that changed to the last day in the warehouse (later days' 20-day baselines read it).
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cryptopulse.analysis.flags import FLAGS, FlagThresholds, flag_posts
from cryptopulse.analysis.frames import read_table
from cryptopulse.analysis.lexicon import VERSION
from cryptopulse.analysis.scoring import Scorer
from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.models.build import build_models, partition_filter
from cryptopulse.models.registry import load_models
from cryptopulse.pipeline import GateFailed, NothingToRun, new_run_id, publish_step, record_checks
from cryptopulse.quality.checks import checks_for, run_checks
from cryptopulse.staging.common import partition_dir

DATASET = "post_sentiment"
ENRICHED_MODELS = ("fct_post_sentiment", "mart_coin_hourly", "mart_coin_daily")
DAYS_PER_CHUNK = 31  # posts are read, scored and written a month at a time to bound memory
SCORE_COLUMNS = ("compound", "pos", "neu", "neg")
POST_COLUMNS = "p.post_id, p.source, p.author_id, p.text, p.created_at, p.date"


@dataclass
class EnrichReport:
    """What one `enrich` did: posts scored, distinct texts, days rewritten, flags, models rebuilt."""

    posts_scored: int = 0
    distinct_texts: int = 0
    days_rewritten: int = 0
    posts_in_days: int = 0
    flagged: dict[str, int] = field(default_factory=lambda: {f: 0 for f in FLAGS})
    flagged_posts: int = 0
    rebuilt: list[str] | None = None  # [start, end) of the marts rebuilt, None when nothing changed
    models: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def enrich(
    settings: Settings,
    interval: Interval | None = None,
    workers: int | None = None,
    rescore: bool = False,
    thresholds: FlagThresholds | None = None,
    publish: bool = True,
) -> EnrichReport:
    """Score and flag the interval's unscored posts (every post with `rescore`), then rebuild and publish."""
    lake, report = Lake(settings.lake), EnrichReport()
    engine = open_engine(settings)
    try:
        if not engine.table_exists("fct_post"):
            raise NothingToRun(f"no posts in the warehouse {settings.warehouse} (run `cryptopulse run` first)")
        started = time.perf_counter()
        days = _days_to_score(engine, interval, rescore)
        with Scorer(workers) as scorer:  # one set of worker processes, and texts scored in one month not scored again
            for first in range(0, len(days), DAYS_PER_CHUNK):
                _enrich_days(engine, lake, days[first : first + DAYS_PER_CHUNK], scorer, rescore, thresholds or FlagThresholds(), report)
        report.seconds["score_and_flag"] = time.perf_counter() - started
        if days:
            started = time.perf_counter()
            rebuilt = Interval(days[0], _warehouse_end(engine))
            report.models = rebuild(engine, lake, rebuilt, settings.freshness_hours)
            report.rebuilt = [str(rebuilt.start), str(rebuilt.end)]
            report.seconds["rebuild"] = time.perf_counter() - started
    finally:
        engine.close()
    if days and publish:
        started = time.perf_counter()
        publish_step(settings, Interval(days[0], dt.date.fromisoformat(report.rebuilt[1])), only=[*ENRICHED_MODELS, "quality_results"])
        report.seconds["publish"] = time.perf_counter() - started
    return report


def _days_to_score(engine: Engine, interval: Interval | None, rescore: bool) -> list[dt.date]:
    """Days of fct_post (within `interval`) holding a post without a score (every day with `rescore`)."""
    where = partition_filter("p.date", interval) if interval else "1 = 1"
    if rescore or not engine.table_exists("fct_post_sentiment"):
        sql = f"SELECT DISTINCT p.date FROM fct_post AS p WHERE {where}"
    else:
        sql = (
            f"SELECT DISTINCT p.date FROM fct_post AS p LEFT JOIN fct_post_sentiment AS s "
            f"ON s.post_id = p.post_id AND s.source = p.source AND s.date = p.date WHERE s.post_id IS NULL AND {where}"
        )
    return sorted(_as_date(r[0]) for r in engine.fetchall(sql))


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])


def _warehouse_end(engine: Engine) -> dt.date:
    return _as_date(engine.fetchall("SELECT max(date) FROM dim_time")[0][0]) + dt.timedelta(days=1)


def _posts_sql(engine: Engine, days: list[dt.date], rescore: bool) -> str:
    listed = ", ".join(f"DATE '{d}'" for d in days)
    if rescore or not engine.table_exists("fct_post_sentiment"):
        scores = ", ".join(f"CAST(NULL AS DOUBLE) AS {c}" for c in SCORE_COLUMNS)
        return f"SELECT {POST_COLUMNS}, {scores} FROM fct_post AS p WHERE p.date IN ({listed})"
    scores = ", ".join(f"CAST(s.{c} AS DOUBLE) AS {c}" for c in SCORE_COLUMNS)  # DuckDB's own decimal → double
    return (
        f"SELECT {POST_COLUMNS}, {scores} FROM fct_post AS p "
        f"LEFT JOIN fct_post_sentiment AS s ON s.post_id = p.post_id AND s.source = p.source AND s.date = p.date "
        f"WHERE p.date IN ({listed})"
    )


def _enrich_days(
    engine: Engine, lake: Lake, days: list[dt.date], scorer: Scorer, rescore: bool, thresholds: FlagThresholds, report: EnrichReport
) -> None:
    """Score the unscored posts of `days`, flag all their posts, and write one staged file per day."""
    posts = read_table(engine, _posts_sql(engine, days, rescore))
    scores = np.column_stack([posts[c].to_numpy() for c in SCORE_COLUMNS]).astype(np.float64).reshape(-1, len(SCORE_COLUMNS))
    todo = np.isnan(scores[:, 0])  # a NULL compound: not scored yet
    with ThreadPoolExecutor(1) as thread:  # DuckDB flags the posts (without the GIL) while the texts are scored
        flagging = thread.submit(flag_posts, posts, thresholds)
        if todo.any():
            scores[todo], distinct = scorer.score(posts["text"].filter(pa.array(todo)))
            report.distinct_texts += distinct
        flags = flagging.result()
    enriched = pa.table(
        {
            "post_id": posts["post_id"],
            "source": posts["source"],
            **{c: scores[:, i] for i, c in enumerate(SCORE_COLUMNS)},
            **{f: flags[f].to_numpy() for f in FLAGS},
            "lexicon_version": pa.array([VERSION] * posts.num_rows, pa.string()),
            "date": posts["date"],
        }
    )
    write_days(lake, enriched)
    report.posts_scored += int(todo.sum())
    report.days_rewritten += len(days)
    report.posts_in_days += posts.num_rows
    for flag in FLAGS:
        report.flagged[flag] += int(flags[flag].sum())
    report.flagged_posts += int(flags.any(axis=1).sum())


def write_days(lake: Lake, enriched: pa.Table) -> None:
    """One staged Parquet file per day of `enriched`, its rows in key order: sorted once, each day is one slice."""
    enriched = enriched.sort_by([("date", "ascending"), ("source", "ascending"), ("post_id", "ascending")])
    dates = enriched["date"].to_numpy()
    starts = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1]]) if len(dates) else np.zeros(0, dtype=np.int64)
    for start, end in zip(starts, [*starts[1:], len(dates)]):
        day = dates[start].item()
        with lake.writing(f"{partition_dir(DATASET, day)}/part-0.parquet") as local:
            pq.write_table(enriched.slice(start, end - start), local)


def rebuild(engine: Engine, lake: Lake, interval: Interval, freshness_hours: int) -> dict[str, int]:
    """Rebuild the sentiment fact and the marts for `interval` in one transaction, under their gates."""
    models = tuple(m for m in load_models() if m.name in ENRICHED_MODELS)
    engine.attach_staged(lake, interval.days())
    engine.begin()
    try:
        results = build_models(engine, interval, models)
        checks = run_checks(engine, interval, freshness_hours, [c for m in models for c in checks_for(m, interval, freshness_hours)])
    except BaseException:
        engine.rollback()
        raise
    failures = [c for c in checks if not c.passed]
    engine.rollback() if failures else engine.commit()
    record_checks(engine, new_run_id(), interval, checks)
    if failures:
        raise GateFailed(failures)
    return {r.name: r.rows_written for r in results}
