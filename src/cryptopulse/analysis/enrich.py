"""`cryptopulse enrich`: score unscored posts and flag bots/spam, land both in the enriched zone, rebuild the marts.

Scores and flags of a day live in the lake's enriched zone, `enriched/post_sentiment/date=D/part-0.parquet` (the
model `fct_post_sentiment` reads them as `enriched_post_sentiment`), so they survive rebuilds, every engine reads
them like a staged file, and the staged zone holds only what staging wrote. Scoring reads only the lake (the day's
staged posts and the scores landed before), so the daily DAG scores a day before its one build. Only posts without a
score are scored; a day that gains posts has its flags recomputed over all its posts. `enrich` then rebuilds
`fct_post_sentiment` and the marts through the pipeline's write–audit–publish, from the first day that changed to
the last day in the warehouse (later days' 20-day baselines read it). Scores an older version wrote into the staged
zone (`staged/post_sentiment/`) are moved to the enriched zone first, once; builds refuse to run until they are.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cryptopulse.analysis.flags import FLAGS, FlagThresholds, flag_posts
from cryptopulse.analysis.lexicon import VERSION
from cryptopulse.analysis.scoring import Scorer
from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.lock import run_lock
from cryptopulse.pipeline import NothingToRun, RunReport, new_run_id, write_audit_publish
from cryptopulse.sqltext import partition_filter
from cryptopulse.staging.zone import DAY_DATASETS, DayDataset, day_files, move_legacy_sentiment

POSTS, SENTIMENT = DAY_DATASETS["stg_posts"], DAY_DATASETS["enriched_post_sentiment"]
ENRICHED_MODELS = ("fct_post_sentiment", "int_coin_mentions", "mart_coin_hourly", "mart_coin_daily")
DAYS_PER_CHUNK = 31  # posts are read, scored and written a month at a time to bound memory
SCORE_COLUMNS = ("compound", "pos", "neu", "neg")
KEY_COLUMNS = ["post_id", "source", "date"]
POST_COLUMNS = [*KEY_COLUMNS, "author_id", "text", "created_at"]


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
    """Score and flag the interval's unscored posts (every post with `rescore`), then rebuild and publish, under the run lock."""
    lake, run_id = Lake(settings.lake), new_run_id()
    with run_lock(lake, run_id):
        move_legacy_sentiment(lake)
        days, end = _warehouse_days(settings, interval, rescore)
        report = score_days(lake, days, workers, rescore, thresholds)
        if days:
            rebuilt = Interval(days[0], end)
            unit = write_audit_publish(settings, RunReport(run_id, rebuilt), ENRICHED_MODELS, system_tables=False, publish=publish)
            report.models = {m.name: m.rows_written for m in unit.models}
            report.seconds.update({f"build {m.name}": m.seconds for m in unit.models})
            report.rebuilt = [str(rebuilt.start), str(rebuilt.end)]
            report.seconds.update({"rebuild" if step == "build" else step: s for step, s in unit.steps.items()})
    return report


def score_staged(settings: Settings, interval: Interval, workers: int | None = None) -> EnrichReport:
    """Score and flag the staged posts of the interval's days before they are built (the daily DAG), under the run lock."""
    lake = Lake(settings.lake)
    with run_lock(lake, "score"):
        move_legacy_sentiment(lake)
        return score_days(lake, interval.days(), workers)


def score_days(
    lake: Lake, days: list[dt.date], workers: int | None = None, rescore: bool = False, thresholds: FlagThresholds | None = None
) -> EnrichReport:
    """Score the staged posts of `days` without a landed score (every post with `rescore`), flag all of them, land the days."""
    report, started = EnrichReport(), time.perf_counter()
    with Scorer(workers) as scorer:  # one set of worker processes, and texts scored in one month not scored again
        for first in range(0, len(days), DAYS_PER_CHUNK):
            _enrich_days(lake, days[first : first + DAYS_PER_CHUNK], scorer, rescore, thresholds or FlagThresholds(), report)
    report.seconds["score_and_flag"] = time.perf_counter() - started
    return report


def enriched_intervals(settings: Settings, interval: Interval) -> dict[str, Interval]:
    """Where a build over `interval` rebuilds the sentiment fact and marts: on to the warehouse's last day, whose 20-day
    baselines read the interval's scores."""
    engine = open_engine(settings)
    try:
        end = _warehouse_end(engine) if engine.table_exists("dim_time") else None
    finally:
        engine.close()
    return dict.fromkeys(ENRICHED_MODELS, Interval(interval.start, max(interval.end, end or interval.end)))


def _warehouse_days(settings: Settings, interval: Interval | None, rescore: bool) -> tuple[list[dt.date], dt.date | None]:
    """The days to score (`_days_to_score`) and the day after the warehouse's last."""
    engine = open_engine(settings)
    try:
        if not engine.table_exists("fct_post"):
            raise NothingToRun(f"no posts in the warehouse {settings.warehouse} (run `cryptopulse run` first)")
        days = _days_to_score(engine, interval, rescore)
        return days, _warehouse_end(engine) if days else None
    finally:
        engine.close()


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


def _warehouse_end(engine: Engine) -> dt.date | None:
    last = engine.fetchall("SELECT max(date) FROM dim_time")[0][0]
    return None if last is None else _as_date(last) + dt.timedelta(days=1)


def _staged_posts(lake: Lake, days: list[dt.date], rescore: bool) -> pa.Table | None:
    """The staged posts of `days`, with their landed scores unless `rescore` (None: no staged posts)."""
    posts = _read_days(lake, POSTS, days, POST_COLUMNS)
    scored = None if rescore else _read_days(lake, SENTIMENT, days, [*KEY_COLUMNS, *SCORE_COLUMNS])
    return posts if posts is None or scored is None else posts.join(scored, KEY_COLUMNS, join_type="left outer")


def _scores(posts: pa.Table) -> np.ndarray:
    """One row of scores per post; NaN where the post has no score yet."""
    if SCORE_COLUMNS[0] not in posts.column_names:
        return np.full((posts.num_rows, len(SCORE_COLUMNS)), np.nan)
    return np.column_stack([posts[c].to_numpy() for c in SCORE_COLUMNS]).astype(np.float64).reshape(-1, len(SCORE_COLUMNS))


def _read_days(lake: Lake, dataset: DayDataset, days: list[dt.date], columns: list[str]) -> pa.Table | None:
    """`columns` of the files of `dataset` for `days` (those that exist), None when there are none."""
    tables = []
    for path in day_files(lake, dataset, days):
        with lake.fs.open(lake.path(path), "rb") as file:
            tables.append(pq.read_table(file, columns=columns))
    return pa.concat_tables(tables) if tables else None


def _enrich_days(lake: Lake, days: list[dt.date], scorer: Scorer, rescore: bool, thresholds: FlagThresholds, report: EnrichReport) -> None:
    """Score the unscored staged posts of `days`, flag all their posts, and land one enriched file per day that has posts."""
    posts = _staged_posts(lake, days, rescore)
    if posts is None:
        return
    scores = _scores(posts)
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
    report.days_rewritten += len(pc.unique(posts["date"]))
    report.posts_in_days += posts.num_rows
    for flag in FLAGS:
        report.flagged[flag] += int(flags[flag].sum())
    report.flagged_posts += int(flags.any(axis=1).sum())


def write_days(lake: Lake, enriched: pa.Table) -> None:
    """One Parquet file per day of `enriched` in the enriched zone, its rows in key order: sorted once (unless they are in
    that order already, as the staged posts of a rescore are), each day is one slice."""
    order = pc.sort_indices(enriched, sort_keys=[("date", "ascending"), ("source", "ascending"), ("post_id", "ascending")])
    if np.any(order.to_numpy() != np.arange(len(order))):
        enriched = enriched.take(order)
    dates = enriched["date"].to_numpy()
    starts = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1]]) if len(dates) else np.zeros(0, dtype=np.int64)
    for start, end in zip(starts, [*starts[1:], len(dates)]):
        day = dates[start].item()
        with lake.writing(SENTIMENT.day_file(day)) as local:
            pq.write_table(enriched.slice(start, end - start), local)
