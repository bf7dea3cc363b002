"""Lead–lag analysis: it finds the planted lead (lag and sign) and, with posts shuffled in time, stays quiet."""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.tsa.api import VAR

from conftest import settings_for, table_hashes
from cryptopulse.analysis import leadlag
from cryptopulse.analysis.analyze import analyze
from cryptopulse.analysis.blas import one_blas_thread, openblas_thread_controls
from cryptopulse.analysis.frames import read_frame
from cryptopulse.analysis.leadlag import SERIES, coin_series, lead_lag
from cryptopulse.analysis.varorder import information, var_order
from cryptopulse.engines import open_engine
from cryptopulse.lake import Lake

ALPHA = 0.05


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, small_enriched):
    """A private copy of the small synthetic lake (scale 0.01: 5 coins × 21 days, leads planted in bitcoin and
    ethereum), run and enriched: `analyze` writes its results and charts into it."""
    root = tmp_path_factory.mktemp("leadlag")
    settings = settings_for(root)
    shutil.copytree(small_enriched.lake, settings.lake)
    shutil.copy(small_enriched.warehouse, settings.warehouse)
    return settings


@pytest.fixture(scope="module")
def hourly(analysed) -> pd.DataFrame:
    """mart_coin_hourly of the small lake, as `analyze` reads it."""
    engine = open_engine(analysed)
    try:
        return read_frame(engine, "SELECT coin_id, ts_hour, return_1h, posts, sentiment_mean FROM mart_coin_hourly")
    finally:
        engine.close()


def truth(settings) -> dict[str, dict]:
    return json.loads(Lake(settings.lake).read_bytes("raw/synthetic/ground_truth.json"))


def test_analyze_recovers_the_planted_lag_and_sign(analysed):
    report = analyze(analysed, max_lag=24, alpha=ALPHA, charts=True)  # every coin's chart, drawn in worker processes
    lake = Lake(analysed.lake)
    assert report.charts == [lake.uri(f"analysis/charts/{s.coin_id}.png") for s in report.coins] and len(report.coins) == 5
    assert all(lake.read_bytes(f"analysis/charts/{s.coin_id}.png")[:8] == b"\x89PNG\r\n\x1a\n" for s in report.coins)
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


def test_with_posts_shuffled_in_time_at_most_alpha_of_results_are_significant(hourly):
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


def reference_granger(frame: pd.DataFrame, max_lag: int) -> list[tuple]:
    """Granger tests as before issue 17: statsmodels fits every order itself (`ic="aic"`), then tests."""
    model = VAR(frame[["returns", *SERIES]].to_numpy())
    fitted = model.fit(maxlags=max_lag, ic="aic")
    fitted = model.fit(1) if fitted.k_ar == 0 else fitted
    names, out = ["returns", *SERIES], []
    for series in SERIES:
        pairs = (("returns", series, f"granger_{series}_to_returns"), (series, "returns", f"granger_returns_to_{series}"))
        for caused, causing, test in pairs:
            result = fitted.test_causality(names.index(caused), [names.index(causing)], kind="f")
            out.append((series, test, int(fitted.k_ar), float(result.test_statistic), float(result.pvalue)))
    return out


def reference_cross_correlation(x, r, max_lag: int) -> pd.DataFrame:
    """corr(x_t, r_t+k) and its normal p-value, one lag at a time."""
    rows = []
    for k in range(-max_lag, max_lag + 1):
        a, b = (x[: len(x) - k], r[k:]) if k >= 0 else (x[-k:], r[: len(r) + k])
        c = float(np.corrcoef(a, b)[0, 1])
        rows.append((k, c, len(a), float(2 * norm.sf(abs(c) * np.sqrt(len(a))))))
    return pd.DataFrame(rows, columns=["lag", "statistic", "n", "p_value"])


@pytest.mark.parametrize("max_lag", [1, 6, 24])
def test_every_test_equals_the_reference_where_statsmodels_picks_the_var_order(hourly, max_lag, monkeypatch):
    tests, _, _ = lead_lag(hourly, max_lag, ALPHA)
    monkeypatch.setattr(leadlag, "granger", reference_granger)
    monkeypatch.setattr(leadlag, "cross_correlation", reference_cross_correlation)
    reference, _, _ = lead_lag(hourly, max_lag, ALPHA)
    assert len(tests) == 5 * (2 * (2 * max_lag + 1) + 4)
    pd.testing.assert_frame_equal(tests, reference, check_exact=True)


def simulated_var(order: int, hours: int = 2_000) -> np.ndarray:
    """Three series where each depends on the others' values `order` hours before: AIC's pick is near `order`."""
    rng = np.random.default_rng(order)
    data = rng.standard_normal((hours, 3))
    for t in range(order, hours):
        data[t] += 0.3 * data[t - order, [1, 2, 0]] + 0.2 * data[t - 1]
    return data


def test_the_var_order_is_the_one_statsmodels_selects_for_every_coin_and_cap(hourly):
    orders = set()
    coins = [coin_series(rows)[["returns", *SERIES]].to_numpy() for _, rows in hourly.groupby("coin_id")]
    cases = [(data, max_lag) for data in [*coins, simulated_var(5), simulated_var(9)] for max_lag in (1, 2, 6, 12, 24)]
    for data, max_lag in [*cases, (coins[0], 48)]:  # 48 (statsmodels takes seconds there) on one series only
        selected = VAR(data).select_order(max_lag)
        assert var_order(data, max_lag) == selected.aic
        assert np.allclose(information(data, max_lag), selected.ics["aic"], rtol=0, atol=1e-12)
        orders.add(selected.aic)
    assert {1, 2, 5, 9} <= orders  # the comparison covers short and long orders


def test_a_rank_deficient_or_too_short_series_is_left_to_statsmodels(hourly):
    data = coin_series(hourly[hourly["coin_id"] == "bitcoin"])[["returns", *SERIES]].to_numpy()
    twin = np.column_stack([data[:, :2], data[:, 1]])  # volume equal to sentiment: no full-rank design
    assert information(twin, 6) is None
    for select in (var_order, lambda data, lag: VAR(data).select_order(lag)):  # the same error as statsmodels' own
        with pytest.raises(np.linalg.LinAlgError):
            select(twin, 6)
    with pytest.raises(ValueError, match="maxlags is too large"):  # as statsmodels says it
        var_order(data[:30], 7)


def test_the_regressions_run_on_one_blas_thread_and_the_setting_is_restored():
    controls = openblas_thread_controls()
    assert controls  # numpy and scipy bring their own OpenBLAS
    before = [get() for get, _ in controls]
    with one_blas_thread():
        assert [get() for get, _ in controls] == [1] * len(controls)
    assert [get() for get, _ in controls] == before
