"""`cryptopulse analyze`: lead–lag tests per coin over `mart_coin_hourly`, kept in `analysis_lead_lag`, with charts.

A rerun replaces the rows of the coins it analyses, so the table always holds the latest analysis.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from cryptopulse.analysis.frames import read_frame
from cryptopulse.analysis.leadlag import MIN_HOURS, CoinSummary, describe, hours_needed, largest_lag, lead_lag
from cryptopulse.config import Settings
from cryptopulse.engines import Engine, open_engine
from cryptopulse.interval import IntervalError
from cryptopulse.lake import Lake
from cryptopulse.pipeline import NothingToRun, publish_step

TABLE = "analysis_lead_lag"
CHARTS_DIR = "analysis/charts"
COLUMNS = (
    "coin_id VARCHAR, series VARCHAR, test VARCHAR, lag INTEGER, statistic DOUBLE, n BIGINT, p_value DOUBLE, "
    "p_adjusted DOUBLE, significant BOOLEAN, max_lag INTEGER, alpha DOUBLE, shuffle_seed BIGINT"
)


@dataclass
class AnalysisReport:
    max_lag: int
    alpha: float
    shuffle_seed: int | None
    coins: list[CoinSummary] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # coin -> why
    charts: list[str] = field(default_factory=list)
    tests: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "max_lag": self.max_lag,
            "alpha": self.alpha,
            "shuffle_seed": self.shuffle_seed,
            "tests": self.tests,
            "coins": {s.coin_id: {"hours": s.hours, "significant": s.significant, **s.best, "granger": s.granger} for s in self.coins},
            "skipped": self.skipped,
            "charts": self.charts,
        }

    def headline(self) -> str:
        """The finding in one line: which coins show a lead or lag that survives the correction."""
        found = [s for s in self.coins if s.significant]
        if not self.coins:
            return "no coin has enough hours to analyse"
        if not found:
            return f"no lead or lag between posts and returns survives correction (α = {self.alpha}) for any of {len(self.coins)} coins"
        return (f"{len(found)} of {len(self.coins)} coins show a lead or lag that survives correction (α = {self.alpha}); "
                f"e.g. {describe(found[0])}")

    def summary_lines(self) -> list[str]:
        lines = [describe(s) for s in self.coins] + [f"{c}: skipped ({why})" for c, why in self.skipped.items()]
        if self.coins and not any(s.significant for s in self.coins):
            lines.append(f"Nothing is significant at α = {self.alpha} after correction (Holm over all {self.tests} tests), for any coin.")
        return lines


def analyze(
    settings: Settings,
    coin: str | None = None,
    max_lag: int = 24,
    alpha: float = 0.05,
    shuffle_seed: int | None = None,
    charts: bool = True,
) -> AnalysisReport:
    """Test every coin (or `coin`), one Holm family over all; replace their rows in `analysis_lead_lag`; draw charts."""
    if not 1 <= max_lag <= 168:
        raise IntervalError(f"--max-lag must be between 1 and 168 hours, got {max_lag}")
    if not 0 < alpha < 1:
        raise IntervalError(f"--alpha must be between 0 and 1, got {alpha}")
    report = AnalysisReport(max_lag, alpha, shuffle_seed)
    engine = open_engine(settings)
    try:
        hourly = _hourly(engine, coin)
        _check_hours(hourly, max_lag)
        tests, report.coins, report.skipped = lead_lag(hourly, max_lag, alpha, shuffle_seed)
        if charts:
            report.charts = _charts(Lake(settings.lake), hourly, tests, report.coins)
        report.tests = len(tests)
        results = tests.assign(max_lag=max_lag, alpha=alpha, shuffle_seed=shuffle_seed) if len(tests) else None
        _replace(engine, results, [s.coin_id for s in report.coins])
    finally:
        engine.close()
    if report.coins:
        publish_step(settings, None, only=[TABLE])
    return report


def _hourly(engine: Engine, coin: str | None) -> pd.DataFrame:
    if not engine.table_exists("mart_coin_hourly"):
        raise NothingToRun("no mart_coin_hourly in the warehouse (run `cryptopulse run`, then `cryptopulse enrich`)")
    where = f"WHERE coin_id = '{coin.replace(chr(39), '')}'" if coin else ""
    hourly = read_frame(engine, f"SELECT coin_id, ts_hour, price_usd, return_1h, posts, sentiment_mean FROM mart_coin_hourly {where}")
    if hourly.empty:
        raise NothingToRun(f"no hours for coin '{coin}' in mart_coin_hourly" if coin else "mart_coin_hourly is empty")
    if hourly["sentiment_mean"].isna().all():
        raise NothingToRun("no post has a sentiment score yet (run `cryptopulse enrich` first)")
    return hourly


def _check_hours(hourly: pd.DataFrame, max_lag: int) -> None:
    """Refuse a --max-lag that a coin to be tested (one with MIN_HOURS returns) has too few hours for."""
    counts = hourly.groupby("coin_id").agg(hours=("ts_hour", "size"), returns=("return_1h", "count"))
    tested = counts[counts["returns"] >= MIN_HOURS]
    if tested.empty or tested["hours"].min() >= hours_needed(max_lag):
        return
    coin, hours = tested["hours"].idxmin(), int(tested["hours"].min())
    raise IntervalError(f"--max-lag {max_lag} needs at least {hours_needed(max_lag)} hours per coin; {coin} has {hours}"
                        f" (use --max-lag {largest_lag(hours)} or less)")


def _charts(lake: Lake, hourly: pd.DataFrame, tests: pd.DataFrame, coins: list[CoinSummary]) -> list[str]:
    """One PNG per coin in the lake, drawn over every core (matplotlib draws on one); their URIs."""
    from cryptopulse.analysis.charts import coin_chart  # matplotlib takes seconds to import: only when drawing

    jobs = [(hourly[hourly["coin_id"] == s.coin_id], tests[tests["coin_id"] == s.coin_id], s) for s in coins]
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            pngs = list(pool.map(coin_chart, *zip(*jobs)))
    else:
        pngs = [coin_chart(*job) for job in jobs]
    uris = []
    for summary, png in zip(coins, pngs):
        path = f"{CHARTS_DIR}/{summary.coin_id}.png"
        lake.write_bytes(path, png)
        uris.append(lake.uri(path))
    return uris


def _replace(engine: Engine, rows: pd.DataFrame | None, coins: list[str]) -> None:
    """Delete the analysed coins' rows and insert the new ones, in one transaction."""
    engine.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({COLUMNS})")
    if not coins:
        return
    names = [c.split()[0] for c in COLUMNS.split(", ")]
    engine.begin()
    try:
        engine.execute(f"DELETE FROM {TABLE} WHERE coin_id IN ({', '.join(_lit(c) for c in coins)})")
        values = ", ".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows[names].itertuples(index=False))
        engine.execute(f"INSERT INTO {TABLE} ({', '.join(names)}) VALUES {values}")
    except BaseException:
        engine.rollback()
        raise
    engine.commit()


def _lit(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("'", "''") + "'"
