"""Does social activity lead returns? Cross-correlations over ±max_lag hours and Granger tests, Holm-corrected.

Per coin, from `mart_coin_hourly`: x = mean sentiment (hours without a scored post take the coin's mean)
or post volume (log 1 + posts), r = hourly log return (missing: 0). `lag` k > 0 means x leads: the
correlation of x_t with r_{t+k}. Under the null (returns without memory, independent of x) √n·corr is
standard normal. Granger tests run both ways on one VAR of returns, sentiment and volume whose order
AIC picks (1…max_lag). Each series is first replaced by its normal scores (ranks mapped to normal
quantiles): fat-tailed returns and spiky post counts would otherwise make the normal p-values far too
small in the tails that a correction over ~100 tests looks at; a monotone map keeps any dependence. All p-values
of one analysis (every coin × 2 series × (2·max_lag + 1) lags, + 4 Granger tests per coin) form one family,
corrected with Holm: the chance that an analysis without any signal shows anything significant is at most α.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.api import VAR

from cryptopulse.analysis.blas import one_blas_thread
from cryptopulse.analysis.varorder import var_order

SERIES = ("sentiment", "volume")
MIN_HOURS = 100


@dataclass(frozen=True)
class CoinSummary:
    """The headline per coin: the strongest lag of each series and the Granger verdicts."""

    coin_id: str
    hours: int
    best: dict[str, dict[str, object]]  # series -> {lag, sign, r, p_adjusted, significant}
    granger: dict[str, dict[str, object]]  # "sentiment->returns" etc. -> {order, p_adjusted, significant}

    @property
    def significant(self) -> bool:
        return any(b["significant"] for b in self.best.values()) or any(g["significant"] for g in self.granger.values())


def coin_series(hourly: pd.DataFrame, shuffle_seed: int | None = None) -> pd.DataFrame:
    """returns, sentiment and volume of one coin's hours (ordered, gaps filled) as normal scores; with
    `shuffle_seed` the hours' social measures are permuted in time together (a placebo: no lead by construction)."""
    hourly = hourly.sort_values("ts_hour")
    sentiment = hourly["sentiment_mean"].astype(float)
    frame = pd.DataFrame(
        {
            "returns": hourly["return_1h"].astype(float).fillna(0.0).to_numpy(),
            "sentiment": sentiment.fillna(sentiment.mean() if sentiment.notna().any() else 0.0).to_numpy(),
            "volume": np.log1p(hourly["posts"].astype(float).to_numpy()),
        },
        index=pd.DatetimeIndex(hourly["ts_hour"]),
    )
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(frame))
        frame[["sentiment", "volume"]] = frame[["sentiment", "volume"]].to_numpy()[order]
    return frame.apply(normal_scores)


def normal_scores(v: np.ndarray) -> np.ndarray:
    """Rank-based inverse normal transform (ties share their mean rank): same order, normal margins."""
    return norm.ppf((rankdata(v) - 0.5) / len(v))


def cross_correlation(x: np.ndarray, r: np.ndarray, max_lag: int) -> pd.DataFrame:
    """corr(x_t, r_{t+k}) for k in −max_lag…max_lag, with n and the two-sided normal p-value."""
    rows = []
    for k in range(-max_lag, max_lag + 1):
        a, b = (x[: len(x) - k], r[k:]) if k >= 0 else (x[-k:], r[: len(r) + k])
        n = len(a)
        rows.append((k, float(np.corrcoef(a, b)[0, 1]) if n > 2 and a.std() > 0 and b.std() > 0 else 0.0, n))
    frame = pd.DataFrame(rows, columns=["lag", "statistic", "n"])
    frame["p_value"] = 2 * norm.sf(frame["statistic"].abs().to_numpy() * np.sqrt(frame["n"].to_numpy()))
    return frame


def largest_lag(hours: int) -> int:
    """The largest VAR order statsmodels can estimate over `hours` hours of returns, sentiment and volume
    (k = 3 equations with a constant: (n − k − 1) // (k + 1))."""
    k = 1 + len(SERIES)
    return max((hours - k - 1) // (k + 1), 0)


def hours_needed(max_lag: int) -> int:
    """The fewest hours of one coin for which `granger` can fit a VAR of order `max_lag`."""
    k = 1 + len(SERIES)
    return max_lag * (k + 1) + k + 1


def granger(frame: pd.DataFrame, max_lag: int) -> list[tuple[str, str, int, float, float]]:
    """(series, test, VAR order, F statistic, p-value) for each series → returns and returns → series,
    from one VAR of returns, sentiment and volume whose order AIC picks (as `VAR.fit(max_lag, ic="aic")`)."""
    data = frame[["returns", *SERIES]]
    constant = [c for c in SERIES if data[c].std() == 0]
    out = [(c, f"granger_{c}_to_returns", 0, 0.0, 1.0) for c in constant] + [(c, f"granger_returns_to_{c}", 0, 0.0, 1.0) for c in constant]
    varying = [c for c in SERIES if c not in constant]
    if not varying:
        return out
    endog = data[["returns", *varying]].to_numpy()
    fitted = VAR(endog).fit(max(var_order(endog, max_lag), 1))  # order 0 leaves nothing to test: VAR(1) then
    names = ["returns", *varying]
    for series in varying:
        for caused, causing, test in ((0, series, f"granger_{series}_to_returns"), (series, 0, f"granger_returns_to_{series}")):
            result = fitted.test_causality(_index(names, caused), [_index(names, causing)], kind="f")
            out.append((series, test, int(fitted.k_ar), float(result.test_statistic), float(result.pvalue)))
    return out


def _index(names: list[str], which: str | int) -> int:
    return which if isinstance(which, int) else names.index(which)


def coin_tests(coin_id: str, frame: pd.DataFrame, max_lag: int) -> pd.DataFrame:
    """Every test of one coin (rows of `analysis_lead_lag` without the correction)."""
    parts = [cross_correlation(frame[s].to_numpy(), frame["returns"].to_numpy(), max_lag).assign(series=s, test="xcorr") for s in SERIES]
    columns = ["series", "test", "lag", "statistic", "p_value"]
    parts.append(pd.DataFrame([dict(zip(columns, t)) for t in granger(frame, max_lag)], columns=columns).assign(n=len(frame)))
    rows = pd.concat(parts, ignore_index=True)
    rows.insert(0, "coin_id", coin_id)
    return rows


def lead_lag(
    hourly: pd.DataFrame, max_lag: int, alpha: float, shuffle_seed: int | None = None
) -> tuple[pd.DataFrame, list[CoinSummary], dict[str, str]]:
    """Test every coin of `hourly` (mart_coin_hourly rows), correct all p-values together (Holm), summarise.

    Returns the tests, a summary per coin, and the coins skipped with the reason.
    """
    tests, skipped = [], {}
    with one_blas_thread():
        for coin_id, rows in hourly.groupby("coin_id", sort=True):
            if rows["return_1h"].notna().sum() < MIN_HOURS:
                skipped[str(coin_id)] = f"fewer than {MIN_HOURS} hours with a return"
                continue
            tests.append(coin_tests(str(coin_id), coin_series(rows, shuffle_seed), max_lag))
    if not tests:
        return pd.DataFrame(), [], skipped
    rows = pd.concat(tests, ignore_index=True)
    rows["p_adjusted"] = multipletests(rows["p_value"], method="holm")[1]
    rows["significant"] = rows["p_adjusted"] < alpha
    summaries = [_summary(str(c), int(r["n"].max()), r) for c, r in rows.groupby("coin_id", sort=True)]
    return rows, summaries, skipped


def _summary(coin_id: str, hours: int, rows: pd.DataFrame) -> CoinSummary:
    best, tests = {}, {}
    for series in SERIES:
        xc = rows[(rows["series"] == series) & (rows["test"] == "xcorr")]
        top = xc.loc[xc["statistic"].abs().idxmax()]
        best[series] = {
            "lag": int(top["lag"]),
            "sign": "+" if top["statistic"] > 0 else "-",
            "r": round(float(top["statistic"]), 4),
            "p_adjusted": float(top["p_adjusted"]),
            "significant": bool(top["significant"]),
        }
    for _, g in rows[rows["test"].str.startswith("granger")].iterrows():
        name = g["test"].removeprefix("granger_").replace("_to_", "->")
        tests[name] = {"order": int(g["lag"]), "p_adjusted": float(g["p_adjusted"]), "significant": bool(g["significant"])}
    return CoinSummary(coin_id, hours, best, tests)


def describe(summary: CoinSummary) -> str:
    """One plain sentence about a coin's result."""
    if not summary.significant:
        return f"{summary.coin_id}: nothing significant over {summary.hours:,} hours (no lead or lag survives correction)."
    said = [
        f"{series} {_when(b['lag'])} (r = {b['r']:+.3f}, corrected p = {b['p_adjusted']:.2g})"
        for series, b in summary.best.items()
        if b["significant"]
    ]
    said += [
        f"Granger {name} (order {g['order']}, corrected p = {g['p_adjusted']:.2g})"
        for name, g in summary.granger.items()
        if g["significant"]
    ]
    return f"{summary.coin_id}: " + "; ".join(said) + "."


def _when(lag: int) -> str:
    if lag > 0:
        return f"leads returns by {lag} h"
    return f"lags returns by {-lag} h" if lag < 0 else "moves with returns in the same hour"
