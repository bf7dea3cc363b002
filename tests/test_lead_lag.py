"""Lead–lag analysis: it finds the planted lead (lag and sign) and, with posts shuffled in time, stays quiet."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from conftest import settings_for, table_hashes
from cryptopulse.analysis.analyze import analyze
from cryptopulse.analysis.enrich import enrich
from cryptopulse.analysis.frames import read_frame
from cryptopulse.analysis.leadlag import lead_lag
from cryptopulse.engines import open_engine
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run

ALPHA = 0.05


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, small_raw):
    """The small synthetic lake (scale 0.01: 5 coins × 21 days, leads planted in bitcoin and ethereum), enriched."""
    root = tmp_path_factory.mktemp("leadlag")
    shutil.copytree(small_raw, root / "lake")
    settings = settings_for(root)
    run(settings)
    enrich(settings, workers=1, publish=False)
    return settings


def truth(settings) -> dict[str, dict]:
    return json.loads(Lake(settings.lake).read_bytes("raw/synthetic/ground_truth.json"))


def test_analyze_recovers_the_planted_lag_and_sign(analysed):
    report = analyze(analysed, max_lag=24, alpha=ALPHA, charts=False)
    planted = {c: t["lead_hours"] for c, t in truth(analysed).items() if t["lead_hours"] is not None}
    assert len(planted) >= 2
    found = {s.coin_id: s.best["sentiment"] for s in report.coins}
    for coin, lead in planted.items():
        assert (found[coin]["lag"], found[coin]["sign"], found[coin]["significant"]) == (lead, "+", True), coin
    for summary in report.coins:
        if summary.coin_id in planted:
            assert summary.granger["sentiment->returns"]["p_adjusted"] < ALPHA or summary.best["sentiment"]["p_adjusted"] < 1e-3
        else:
            assert not summary.best["sentiment"]["significant"], summary.coin_id  # no sentiment lead where none was planted


def test_with_posts_shuffled_in_time_at_most_alpha_of_results_are_significant(analysed):
    engine = open_engine(analysed)
    try:
        hourly = read_frame(engine, "SELECT coin_id, ts_hour, return_1h, posts, sentiment_mean FROM mart_coin_hourly")
    finally:
        engine.close()
    coin_verdicts, run_verdicts = [], []
    for seed in range(20):
        _, summaries, _ = lead_lag(hourly, max_lag=6, alpha=ALPHA, shuffle_seed=seed)
        coin_verdicts += [s.significant for s in summaries]
        run_verdicts.append(any(s.significant for s in summaries))
    assert len(coin_verdicts) == 100
    assert sum(coin_verdicts) / len(coin_verdicts) <= ALPHA
    assert sum(run_verdicts) / len(run_verdicts) <= 2 * ALPHA  # one run = one Holm family: its error rate is ≤ α in expectation


def test_analyze_is_idempotent_and_writes_charts(analysed):
    analyze(analysed, coin="bitcoin", max_lag=6, charts=True)
    first = table_hashes(analysed.warehouse, ("analysis_lead_lag",))
    report = analyze(analysed, coin="bitcoin", max_lag=6, charts=True)
    assert table_hashes(analysed.warehouse, ("analysis_lead_lag",)) == first
    png = Lake(analysed.lake).read_bytes("analysis/charts/bitcoin.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert report.charts == [Lake(analysed.lake).uri("analysis/charts/bitcoin.png")]
    con = duckdb.connect(analysed.warehouse, read_only=True)
    try:
        sql = "SELECT series, test, count(*) FROM analysis_lead_lag WHERE coin_id = 'bitcoin' GROUP BY ALL ORDER BY ALL"
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    assert rows == [
        ("sentiment", "granger_returns_to_sentiment", 1),
        ("sentiment", "granger_sentiment_to_returns", 1),
        ("sentiment", "xcorr", 13),
        ("volume", "granger_returns_to_volume", 1),
        ("volume", "granger_volume_to_returns", 1),
        ("volume", "xcorr", 13),
    ]


def test_the_summary_says_plainly_when_nothing_is_significant(analysed):
    report = analyze(analysed, coin="tether", max_lag=6, shuffle_seed=0, charts=False)
    assert not report.coins[0].significant
    assert report.summary_lines() == [
        "tether: nothing significant over 504 hours (no lead or lag survives correction).",
        f"Nothing is significant at α = {ALPHA} after correction (Holm over all 30 tests), for any coin.",
    ]
