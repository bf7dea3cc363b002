"""Plotly figures of the dashboard: plain functions from query results (pandas) to interactive figures, times in UTC."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FLAGGED = "#d62728"
BAND = "rgba(31, 119, 180, 0.18)"
UTC_AXIS = "time (UTC)"


def _layout(fig: go.Figure, height: int, hovermode: str = "x unified") -> go.Figure:
    fig.update_layout(
        height=height,
        hovermode=hovermode,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.04, "x": 0},
    )
    return fig


def market(df: pd.DataFrame, daily: bool) -> go.Figure:
    """Price (candles when daily), market cap and volume of one coin, on one zoomable time axis."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.5, 0.25, 0.25],
                        subplot_titles=("price (USD)", "market cap (USD)", "24 h volume (USD)"))
    if daily:
        x = pd.to_datetime(df["date"])
        fig.add_trace(go.Candlestick(x=x, open=df["open_usd"], high=df["high_usd"], low=df["low_usd"], close=df["close_usd"],
                                     name="price", showlegend=False), row=1, col=1)
        fig.update_xaxes(rangeslider_visible=False)
    else:
        x = df["ts_hour"]
        fig.add_trace(go.Scatter(x=x, y=df["price_usd"], name="price", mode="lines"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=df["market_cap_usd"], name="market cap", mode="lines"), row=2, col=1)
    fig.add_trace(go.Bar(x=x, y=df["volume_usd"], name="volume"), row=3, col=1)
    fig.update_xaxes(title_text=UTC_AXIS, row=3, col=1)
    return _layout(fig, 620)


def social(df: pd.DataFrame) -> go.Figure:
    """Posts (flagged stacked on top), mean sentiment with its 95 % band, social dominance and bot/spam share."""
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=("posts naming the coin", "mean sentiment (VADER compound, 95 % band)",
                                        "social dominance (% of posts naming any tracked coin)", "bot/spam share (%)"))
    x = df["period"]
    fig.add_trace(go.Bar(x=x, y=df["posts"], name="posts"), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=df["flagged_posts"], name="flagged (bot/spam)", marker_color=FLAGGED), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=df["sentiment_high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
                  row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=df["sentiment_low"], mode="lines", line={"width": 0}, fill="tonexty", fillcolor=BAND,
                             name="95 % band"), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=df["sentiment_mean"], mode="lines+markers", name="mean sentiment"), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=100 * df["social_dominance"], mode="lines", name="dominance %"), row=3, col=1)
    fig.add_trace(go.Scatter(x=x, y=100 * df["bot_share"], mode="lines", name="bot/spam %", line={"color": FLAGGED}), row=4, col=1)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text=UTC_AXIS, row=4, col=1)
    return _layout(fig, 820)


Z_SERIES = {"posts_z": "posts", "sentiment_z": "sentiment", "dominance_z": "dominance", "bot_share_z": "bot/spam share"}


def zscores(df: pd.DataFrame) -> go.Figure:
    """Each social measure as a z-score against the coin's own trailing baseline; ±2 marked."""
    fig = go.Figure([go.Scatter(x=df["period"], y=df[col], mode="lines", name=name) for col, name in Z_SERIES.items()])
    for level in (-2, 2):
        fig.add_hline(y=level, line_dash="dot", line_color="grey")
    fig.update_yaxes(title_text="z-score vs own baseline")
    fig.update_xaxes(title_text=UTC_AXIS)
    return _layout(fig, 320)


def returns_and_sentiment(df: pd.DataFrame) -> go.Figure:
    """Cumulative log return (left axis) and mean sentiment, hourly and trailing 24 h (right axis), on one time axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=df["ts_hour"], y=100 * df["cumulative_return"], name="cumulative log return (%)", mode="lines"),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=df["ts_hour"], y=df["sentiment_mean"], name="sentiment (hour)", mode="markers",
                             marker={"size": 3, "opacity": 0.35}), secondary_y=True)
    fig.add_trace(go.Scatter(x=df["ts_hour"], y=df["sentiment_24h"], name="sentiment (trailing 24 h)", mode="lines"),
                  secondary_y=True)
    fig.update_yaxes(title_text="cumulative log return (%)", secondary_y=False)
    fig.update_yaxes(title_text="mean sentiment", secondary_y=True, tickmode="auto", tickformat=".2f", showgrid=False)
    fig.update_xaxes(title_text=UTC_AXIS)
    return _layout(fig, 420)


def lag_profile(xcorr: pd.DataFrame) -> go.Figure:
    """Correlation of each series with returns k hours later (k > 0: the series leads); red: significant after correction."""
    fig = go.Figure()
    for series, rows in xcorr.groupby("series", sort=True):
        fig.add_trace(go.Scatter(
            x=rows["lag"], y=rows["statistic"], mode="lines+markers", name=str(series),
            customdata=rows[["p_value", "p_adjusted"]], hovertemplate="lag %{x} h: r = %{y:.3f}, p = %{customdata[0]:.2g}, "
            "corrected p = %{customdata[1]:.2g}<extra>" + str(series) + "</extra>",
        ))
    hits = xcorr[xcorr["significant"]]
    fig.add_trace(go.Scatter(x=hits["lag"], y=hits["statistic"], mode="markers", name="significant after correction",
                             marker={"color": FLAGGED, "size": 11, "symbol": "circle-open", "line": {"width": 2}}, hoverinfo="skip"))
    fig.add_vline(x=0, line_dash="dot", line_color="grey")
    fig.update_xaxes(title_text="lag k (hours): correlation of the series at t with the return at t + k")
    fig.update_yaxes(title_text="correlation (normal scores)")
    return _layout(fig, 380, hovermode="closest")


def quarantine(df: pd.DataFrame) -> go.Figure:
    """Quarantined records per reason, one colour per dataset/source."""
    fig = go.Figure()
    for (dataset, source), rows in df.groupby(["dataset", "source"], sort=True):
        fig.add_trace(go.Bar(x=rows["reason"], y=rows["records"], name=f"{dataset} / {source}"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="records quarantined")
    return _layout(fig, 320, hovermode="closest")
