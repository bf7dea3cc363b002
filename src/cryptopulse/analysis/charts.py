"""PNG charts per coin: daily price against daily sentiment, and the lag profile of sentiment and volume."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cryptopulse.analysis.leadlag import CoinSummary


def coin_chart(hourly: pd.DataFrame, tests: pd.DataFrame, summary: CoinSummary) -> bytes:
    """The PNG of one coin: top, daily close and mean sentiment; bottom, corr(x_t, r_t+k) per lag."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7))
    fig.subplots_adjust(left=0.08, right=0.92, top=0.95, bottom=0.08, hspace=0.35)
    daily = hourly.set_index(pd.DatetimeIndex(hourly["ts_hour"])).sort_index()[["price_usd", "sentiment_mean"]].resample("D")
    daily = pd.DataFrame({"price": daily["price_usd"].last(), "sentiment": daily["sentiment_mean"].mean()})
    top.plot(daily.index, daily["price"], color="black", linewidth=0.8, label="price (USD)")
    top.set_ylabel("price (USD, daily close)")
    top.set_title(f"{summary.coin_id}: price and sentiment (daily mean of VADER compound)")
    right = top.twinx()
    right.plot(daily.index, daily["sentiment"], color="tab:blue", linewidth=0.8)
    right.set_ylabel("sentiment", color="tab:blue")
    for series, color in (("sentiment", "tab:blue"), ("volume", "tab:orange")):
        xc = tests[(tests["series"] == series) & (tests["test"] == "xcorr")].sort_values("lag")
        offset = -0.2 if series == "sentiment" else 0.2
        bottom.bar(xc["lag"] + offset, xc["statistic"], width=0.4, color=color, label=series)
        marked = xc[xc["significant"]]
        bottom.scatter(marked["lag"] + offset, marked["statistic"], color="red", zorder=3, s=14)
    band = 1.96 / np.sqrt(max(summary.hours, 1))
    bottom.axhspan(-band, band, color="grey", alpha=0.2, label="±1.96/√n (uncorrected)")
    bottom.axvline(0, color="black", linewidth=0.5)
    bottom.set_xlabel("lag k (hours; k > 0: social measure leads the return)")
    bottom.set_ylabel("corr(x_t, r_t+k)")
    bottom.set_title("lag profile (red: significant after Holm correction)")
    bottom.legend(loc="upper right")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
