"""Plain words for a coin's lead–lag results: what survives the correction, said without claiming more."""

from __future__ import annotations

import pandas as pd

from cryptopulse.dashboard import fmt

SERIES = {"sentiment": "mean sentiment", "volume": "post volume"}


def when(lag: int) -> str:
    """How a series sits in time relative to returns at lag k (k > 0: the series comes first)."""
    if lag > 0:
        return f"leads returns by {lag} h"
    return f"follows returns by {-lag} h" if lag < 0 else "moves with returns in the same hour"


def best_lags(rows: pd.DataFrame) -> pd.DataFrame:
    """Per series, the cross-correlation lag with the largest |r|."""
    xcorr = rows[rows["test"] == "xcorr"]
    if xcorr.empty:
        return xcorr
    return xcorr.loc[xcorr.groupby("series")["statistic"].apply(lambda s: s.abs().idxmax())].reset_index(drop=True)


def granger_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The Granger tests as a readable table: direction, VAR order, F, p, corrected p, significant."""
    g = rows[rows["test"].str.startswith("granger_")]
    direction = g["test"].str.removeprefix("granger_").str.replace("_to_", " → ", regex=False).str.replace("volume", "post volume")
    return pd.DataFrame({
        "direction": direction.to_numpy(),
        "VAR order": g["lag"].to_numpy(),
        "F": g["statistic"].round(3).to_numpy(),
        "p": g["p_value"].to_numpy(),
        "corrected p": g["p_adjusted"].to_numpy(),
        "significant": g["significant"].to_numpy(),
    })


def sentences(rows: pd.DataFrame, coin: str, family_tests: int) -> list[str]:
    """What the results of one coin say, one sentence per finding; one sentence when nothing is significant."""
    alpha = float(rows["alpha"].iloc[0])
    correction = f"Holm correction over all {family_tests:,} tests of the analysis, α = {alpha:g}"
    if not rows["significant"].any():
        return [f"Nothing is significant for {coin}: no lag of mean sentiment or post volume and no Granger test "
                f"survives the {correction}. These data show no lead or lag between social activity and returns."]
    said = []
    for b in best_lags(rows).itertuples():
        if b.significant:
            hits = int((rows["significant"] & (rows["test"] == "xcorr") & (rows["series"] == b.series)).sum())
            said.append(
                f"{SERIES[b.series].capitalize()} {when(int(b.lag))}: r = {b.statistic:+.2f} at lag {int(b.lag)} h "
                f"(r² = {100 * b.statistic ** 2:.1f} % on normal scores), corrected p = "
                f"{fmt.p_value(b.p_adjusted)}; {hits} lag{'s' if hits != 1 else ''} significant in all."
            )
        else:
            said.append(f"No lag of {SERIES[b.series]} is significant after correction.")
    grangers = granger_table(rows)
    for _, g in grangers[grangers["significant"]].iterrows():
        cause, effect = g["direction"].split(" → ")
        said.append(f"Granger: the past of {cause} improves the prediction of {effect} (VAR order {g['VAR order']}, "
                    f"corrected p = {fmt.p_value(g['corrected p'])}).")
    if not grangers["significant"].any():
        said.append("No Granger test is significant after correction.")
    said.append(f"Significance after the {correction}. A lead is a statistical association in these data, "
                "not proof that posts move prices.")
    return said
